import assert from "node:assert/strict";
import { z } from "zod";
import { createSynapseHttp, enc, SynapseError } from "../../src/synapse/http.ts";
import { type FakeSynapse, type Fault, startFakeSynapse } from "../support/fake_synapse.ts";

const WHOAMI = {
  method: "GET",
  path: "/_matrix/client/v3/account/whoami",
  schema: z.object({ user_id: z.string() }),
} as const;

/** The SynapseError `call` rejects with (fails the test if it resolves or throws anything else). */
async function failure(call: () => Promise<unknown>): Promise<SynapseError> {
  try {
    await call();
  } catch (err) {
    assert.ok(err instanceof SynapseError, `not a SynapseError: ${err}`);
    return err;
  }
  assert.fail("the call succeeded");
}

/** The stand-in with a bot, and a client for it; `fault` is scripted for the next whoami. */
function setup(fake: FakeSynapse, options: { timeoutMs?: number } = {}) {
  const bot = fake.addUser("bot", { admin: true });
  const http = createSynapseHttp({ baseUrl: fake.url, ...options });
  const whoamiFault = (fault: Fault) => fake.fault({ path: /whoami$/, fault });
  return { bot, http, whoamiFault };
}

Deno.test("createSynapseHttp(): a reply is parsed with the schema and the token sent as a bearer", async () => {
  await using fake = startFakeSynapse();
  const { bot, http } = setup(fake);
  assert.deepEqual(await http.call(bot.token, WHOAMI), { user_id: bot.userId });
  assert.deepEqual(await http.as(bot.token).call(WHOAMI), { user_id: bot.userId });
  const anonymous = await failure(() => http.call(null, WHOAMI));
  assert.deepEqual([anonymous.status, anonymous.errcode], [401, "M_MISSING_TOKEN"]);
  assert.deepEqual(fake.requests.map((r) => r.token), [bot.token, bot.token, null]);
});

Deno.test("createSynapseHttp(): a 429 is a SynapseError with the status, errcode and retryAfterMs", async () => {
  await using fake = startFakeSynapse();
  const { bot, http, whoamiFault } = setup(fake);
  whoamiFault({ kind: "limit", retryAfterMs: 1234 });
  const err = await failure(() => http.call(bot.token, WHOAMI));
  assert.deepEqual(
    [err.status, err.errcode, err.retryAfterMs, err.endpoint],
    [429, "M_LIMIT_EXCEEDED", 1234, "GET /_matrix/client/v3/account/whoami"],
  );
  assert.match(err.message, /HTTP 429 M_LIMIT_EXCEEDED: Too Many Requests/);
  assert.equal(fake.count("GET", /whoami$/), 1, "not retried: callers decide about retries");
});

Deno.test("createSynapseHttp(): a 5xx keeps a Matrix errcode, and without one is HTTP_<status>", async () => {
  await using fake = startFakeSynapse();
  const { bot, http, whoamiFault } = setup(fake);
  whoamiFault({ kind: "error", status: 503, errcode: "M_UNKNOWN" });
  whoamiFault({ kind: "error", status: 502 });
  const matrix = await failure(() => http.call(bot.token, WHOAMI));
  assert.deepEqual([matrix.status, matrix.errcode, matrix.retryAfterMs], [503, "M_UNKNOWN", null]);
  const plain = await failure(() => http.call(bot.token, WHOAMI));
  assert.deepEqual([plain.status, plain.errcode], [502, "HTTP_502"]);
  assert.match(plain.message, /Bad Gateway/, "the start of the text body says what happened");
  assert.equal(fake.count("GET", /whoami$/), 2);
});

Deno.test("createSynapseHttp(): a reply slower than timeoutMs is status 0 M_CONNECTION_FAILED", async () => {
  await using fake = startFakeSynapse();
  const { bot, http, whoamiFault } = setup(fake, { timeoutMs: 200 });
  whoamiFault({ kind: "delay", ms: 30_000 });
  const started = performance.now();
  const err = await failure(() => http.call(bot.token, WHOAMI));
  const waited = performance.now() - started;
  assert.deepEqual([err.status, err.errcode, err.retryAfterMs], [0, "M_CONNECTION_FAILED", null]);
  assert.doesNotMatch(err.message, /HTTP/, "no status to report");
  assert.ok(waited >= 150 && waited < 5_000, `gave up after ${waited} ms, not at the timeout`);
  assert.deepEqual(await http.call(bot.token, WHOAMI), { user_id: bot.userId }, "next call works");
});

Deno.test("createSynapseHttp(): a refused connection is status 0 M_CONNECTION_FAILED", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close(); // nothing listens there now
  const statuses: number[] = [];
  const http = createSynapseHttp({
    baseUrl: `http://127.0.0.1:${port}`,
    onResponse: (_endpoint, status) => statuses.push(status),
  });
  const err = await failure(() => http.call("secret-token", WHOAMI));
  assert.deepEqual([err.status, err.errcode], [0, "M_CONNECTION_FAILED"]);
  assert.match(err.message, /^GET \/_matrix\/client\/v3\/account\/whoami failed: M_CONNECTION/);
  assert.deepEqual(statuses, [0]);
});

Deno.test("createSynapseHttp(): malformed JSON, HTML and wrong-shaped JSON on a 200 are M_BAD_REPLY", async () => {
  await using fake = startFakeSynapse();
  const { bot, http, whoamiFault } = setup(fake);
  whoamiFault({ kind: "raw", body: '{"user_id": "@bot:fake' });
  whoamiFault({ kind: "raw", body: "<html>maintenance</html>", type: "text/html" });
  whoamiFault({ kind: "json", json: { user: "@bot:fake.test" } });
  whoamiFault({ kind: "raw", body: "" });
  for (let i = 0; i < 4; i++) {
    const err = await failure(() => http.call(bot.token, WHOAMI));
    assert.deepEqual([err.status, err.errcode, err.retryAfterMs], [200, "M_BAD_REPLY", null]);
    assert.match(err.message, /unexpected reply/);
  }
  assert.equal(fake.pendingFaults, 0);
});

Deno.test("createSynapseHttp(): no error message carries the bearer token", async () => {
  await using fake = startFakeSynapse();
  const { bot, http, whoamiFault } = setup(fake, { timeoutMs: 200 });
  const faults: Fault[] = [
    { kind: "unknownToken" },
    { kind: "error", status: 500 },
    { kind: "raw", body: "not json" },
    { kind: "json", json: { user_id: 42 } },
    { kind: "delay", ms: 30_000 },
  ];
  for (const fault of faults) whoamiFault(fault);
  for (const fault of faults) {
    const err = await failure(() => http.call(bot.token, WHOAMI));
    const said = `${err.message} ${err.endpoint} ${err.stack}`;
    assert.ok(!said.includes(bot.token), `${fault.kind}: the token leaked into "${said}"`);
    assert.ok(!said.includes(bot.token.slice(4)), `${fault.kind}: part of the token leaked`);
  }
});

Deno.test("createSynapseHttp(): the endpoint label replaces Matrix IDs with {id}, as sent encoded", async () => {
  await using fake = startFakeSynapse();
  const seen: Array<[string, number]> = [];
  const bot = fake.addUser("bot", { admin: true });
  const http = createSynapseHttp({
    baseUrl: `${fake.url}//`,
    onResponse: (endpoint, status) => seen.push([endpoint, status]),
  });
  const paths = [
    `/_synapse/admin/v2/users/${enc("@nobody:fake.test")}`,
    `/_synapse/admin/v1/rooms/${enc("!nowhere:fake.test")}/members`,
    `/_matrix/client/v3/directory/room/${enc("#lost:fake.test")}`,
    `/_matrix/client/v3/rooms/${enc("!nowhere:fake.test")}/state/m.room.name/`,
  ];
  const labels = [];
  for (const path of paths) {
    const err = await failure(() =>
      http.call(bot.token, { method: "GET", path, schema: z.unknown() })
    );
    assert.equal(err.status, 404);
    labels.push(err.endpoint);
  }
  assert.deepEqual(labels, [
    "GET /_synapse/admin/v2/users/{id}",
    "GET /_synapse/admin/v1/rooms/{id}/members",
    "GET /_matrix/client/v3/directory/room/{id}",
    "GET /_matrix/client/v3/rooms/{id}/state/m.room.name/",
  ]);
  assert.deepEqual(seen, labels.map((l) => [l, 404]), "onResponse has the label and status");
  assert.deepEqual(fake.requests.map((r) => r.path), paths, "IDs went over the wire encoded");
});

Deno.test("createSynapseHttp(): onResponse is called once per request with its status", async () => {
  await using fake = startFakeSynapse();
  const seen: Array<{ endpoint: string; status: number; ms: number }> = [];
  const bot = fake.addUser("bot");
  const http = createSynapseHttp({
    baseUrl: fake.url,
    onResponse: (endpoint, status, ms) => seen.push({ endpoint, status, ms }),
  });
  fake.fault({ path: /whoami$/, fault: { kind: "error", status: 503, errcode: "M_UNKNOWN" } });
  fake.fault({ path: /whoami$/, fault: { kind: "json", json: {} } });
  await failure(() => http.call(bot.token, WHOAMI));
  await failure(() => http.call(bot.token, WHOAMI));
  await http.call(bot.token, WHOAMI);
  await failure(() => http.call("stale", WHOAMI));
  assert.deepEqual(seen.map((s) => s.status), [503, 200, 200, 401]);
  assert.ok(seen.every((s) => s.endpoint === "GET /_matrix/client/v3/account/whoami"));
  assert.ok(seen.every((s) => s.ms >= 0 && s.ms < 10_000), "durations are plausible");
});

Deno.test({
  // Was a bare TypeError ("error reading a body from connection") before the body read moved
  // inside the try: the worker's outage detection and the session's 401 check missed it.
  name: "createSynapseHttp(): a connection cut mid-body is status 0 M_CONNECTION_FAILED",
  async fn() {
    await using fake = startFakeSynapse();
    const { bot, http, whoamiFault } = setup(fake);
    whoamiFault({ kind: "drop" });
    const err = await failure(() => http.call(bot.token, WHOAMI));
    assert.deepEqual([err.status, err.errcode], [0, "M_CONNECTION_FAILED"]);
  },
});

Deno.test({
  // ky's `timeout` ends at the headers; a stalled body used to make the call wait as long as
  // Synapse (or a proxy) kept the connection open.
  name: "createSynapseHttp(): timeoutMs also bounds a body that stalls",
  async fn() {
    await using fake = startFakeSynapse();
    const { bot, http, whoamiFault } = setup(fake, { timeoutMs: 200 });
    whoamiFault({ kind: "stall", ms: 3_000 });
    const started = performance.now();
    const err = await failure(() => http.call(bot.token, WHOAMI));
    assert.deepEqual([err.status, err.errcode], [0, "M_CONNECTION_FAILED"]);
    assert.ok(performance.now() - started < 2_000, "gave up near the timeout");
  },
});
