import assert from "node:assert/strict";
import { type FakeSynapse, startFakeSynapse } from "./fake_synapse.ts";
import { waitFor } from "./wait.ts";

const C = "/_matrix/client/v3", A = "/_synapse/admin";
const enc = encodeURIComponent;

/** One raw request to the stand-in: the status and the parsed body (text when not JSON). */
async function hit(
  fake: FakeSynapse,
  method: string,
  path: string,
  options: { token?: string; json?: unknown } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(fake.url + path, {
    method,
    headers: {
      ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
      ...(options.json === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(options.json === undefined ? {} : { body: JSON.stringify(options.json) }),
  });
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) };
  } catch {
    return { status: response.status, body: { text } };
  }
}

Deno.test("fake Synapse: power levels written with a PUT are what a GET and the admin view return", async () => {
  await using fake = startFakeSynapse();
  const bot = fake.addUser("bot", { admin: true });
  const roomId = fake.addRoom(bot.userId);
  const path = `${C}/rooms/${enc(roomId)}/state/m.room.power_levels/`;
  const before = await hit(fake, "GET", path, { token: bot.token });
  assert.equal(before.status, 200);
  const written = { ...before.body, users: { [bot.userId]: 100, "@p:fake.test": 50 } };
  const put = await hit(fake, "PUT", path, { token: bot.token, json: written });
  assert.equal(put.status, 200);
  assert.match(String(put.body.event_id), /^\$/);
  assert.deepEqual((await hit(fake, "GET", path, { token: bot.token })).body, written);
  const admin = await hit(fake, "GET", `${A}/v1/rooms/${enc(roomId)}/state`, { token: bot.token });
  const events = admin.body.state as Array<{ type: string; content: unknown }>;
  assert.deepEqual(events.find((e) => e.type === "m.room.power_levels")?.content, written);
  const missing = await hit(fake, "GET", `${C}/rooms/${enc(roomId)}/state/m.room.topic/`, {
    token: bot.token,
  });
  assert.deepEqual([missing.status, missing.body.errcode], [404, "M_NOT_FOUND"]);
});

Deno.test("fake Synapse: tokens are checked and every request is recorded with its token", async () => {
  await using fake = startFakeSynapse();
  const person = fake.addUser("person");
  const who = `${C}/account/whoami`;
  assert.deepEqual(
    (await hit(fake, "GET", who, { token: person.token })).body.user_id,
    person.userId,
  );
  const none = await hit(fake, "GET", who);
  assert.deepEqual([none.status, none.body.errcode], [401, "M_MISSING_TOKEN"]);
  const wrong = await hit(fake, "GET", who, { token: "nope" });
  assert.deepEqual([wrong.status, wrong.body.errcode], [401, "M_UNKNOWN_TOKEN"]);
  const notAdmin = await hit(fake, "GET", `${A}/v2/users`, { token: person.token });
  assert.deepEqual([notAdmin.status, notAdmin.body.errcode], [403, "M_FORBIDDEN"]);
  fake.tokens.delete(person.token);
  assert.equal((await hit(fake, "GET", who, { token: person.token })).status, 401);
  assert.deepEqual(fake.requests.map((r) => r.token), [
    person.token,
    null,
    "nope",
    person.token,
    person.token,
  ]);
  assert.equal(fake.count("GET", /whoami$/), 4);
});

Deno.test("fake Synapse: a fault fires on exactly the scripted requests, then stops", async () => {
  await using fake = startFakeSynapse();
  const bot = fake.addUser("bot", { admin: true });
  const who = `${C}/account/whoami`;
  fake.fault({
    method: "GET",
    path: /whoami$/,
    times: 2,
    fault: { kind: "limit", retryAfterMs: 1234 },
  });
  assert.equal(fake.pendingFaults, 2);
  assert.equal((await hit(fake, "POST", who, { token: bot.token })).status, 404, "other method");
  assert.equal(
    (await hit(fake, "GET", `${A}/v2/users`, { token: bot.token })).status,
    200,
    "other path",
  );
  for (let i = 0; i < 2; i++) {
    const limited = await hit(fake, "GET", who, { token: bot.token });
    assert.equal(limited.status, 429);
    assert.deepEqual(
      [limited.body.errcode, limited.body.retry_after_ms],
      ["M_LIMIT_EXCEEDED", 1234],
    );
  }
  assert.equal(fake.pendingFaults, 0);
  assert.equal((await hit(fake, "GET", who, { token: bot.token })).status, 200);
  assert.equal(fake.count("GET", /whoami$/), 3);
});

Deno.test("fake Synapse: body faults answer as scripted: raw text, JSON of any shape, plain 5xx", async () => {
  await using fake = startFakeSynapse();
  const bot = fake.addUser("bot");
  const who = `${C}/account/whoami`;
  fake.fault({ path: /whoami$/, fault: { kind: "raw", body: '{"user_id":' } });
  fake.fault({ path: /whoami$/, fault: { kind: "json", json: [1, 2] } });
  fake.fault({ path: /whoami$/, fault: { kind: "error", status: 502 } });
  fake.fault({ path: /whoami$/, fault: { kind: "error", status: 503, errcode: "M_UNKNOWN" } });
  fake.fault({ path: /whoami$/, fault: { kind: "unknownToken" } });
  assert.deepEqual(await hit(fake, "GET", who, { token: bot.token }), {
    status: 200,
    body: { text: '{"user_id":' },
  });
  assert.deepEqual(await hit(fake, "GET", who, { token: bot.token }), {
    status: 200,
    body: [1, 2],
  });
  const plain = await hit(fake, "GET", who, { token: bot.token });
  assert.equal(plain.status, 502);
  assert.match(String(plain.body.text), /Bad Gateway/);
  const matrix = await hit(fake, "GET", who, { token: bot.token });
  assert.deepEqual([matrix.status, matrix.body.errcode], [503, "M_UNKNOWN"]);
  const lost = await hit(fake, "GET", who, { token: bot.token });
  assert.deepEqual([lost.status, lost.body.errcode], [401, "M_UNKNOWN_TOKEN"]);
  assert.equal((await hit(fake, "GET", who, { token: bot.token })).body.user_id, bot.userId);
});

Deno.test("fake Synapse: a dropped connection fails the body read after the headers", async () => {
  await using fake = startFakeSynapse();
  const bot = fake.addUser("bot");
  fake.fault({ path: /whoami$/, fault: { kind: "drop" } });
  const response = await fetch(`${fake.url}${C}/account/whoami`, {
    headers: { authorization: `Bearer ${bot.token}` },
  });
  assert.equal(response.status, 200);
  await assert.rejects(() => response.text());
});

Deno.test("fake Synapse: a stalled body arrives whole, after the pause", async () => {
  await using fake = startFakeSynapse();
  const bot = fake.addUser("bot");
  fake.fault({ path: /whoami$/, fault: { kind: "stall", ms: 300 } });
  const started = performance.now();
  const response = await fetch(`${fake.url}${C}/account/whoami`, {
    headers: { authorization: `Bearer ${bot.token}` },
  });
  assert.equal(response.status, 200);
  assert.equal((await response.json()).user_id, bot.userId);
  const took = performance.now() - started;
  assert.ok(took >= 250, `the body was held back (${took} ms)`);
});

Deno.test("fake Synapse: a delayed answer outlives a client timeout, and disposal ends the wait", async () => {
  const fake = startFakeSynapse();
  const bot = fake.addUser("bot");
  fake.fault({ path: /whoami$/, times: 2, fault: { kind: "delay", ms: 60_000 } });
  const url = `${fake.url}${C}/account/whoami`;
  const headers = { authorization: `Bearer ${bot.token}` };
  await assert.rejects(
    () => fetch(url, { headers, signal: AbortSignal.timeout(100) }),
    (err: Error) => err.name === "TimeoutError",
  );
  const waiting = fetch(url, { headers }).then((r) => r.json());
  await waitFor("the second request to arrive", () => fake.requests.length === 2);
  const started = Date.now();
  await fake[Symbol.asyncDispose]();
  assert.ok(Date.now() - started < 10_000, "disposal did not wait out the delay");
  assert.equal((await waiting).user_id, bot.userId, "the delayed request was answered");
});

Deno.test("fake Synapse: the user list is newest first, pages with next_token, hides the deactivated", async () => {
  await using fake = startFakeSynapse();
  const bot = fake.addUser("bot", { admin: true, creationTs: 1_000 });
  for (const [name, ts] of [["old", 2_000], ["mid", 3_000], ["new", 4_000], ["gone", 5_000]]) {
    fake.addUser(String(name), { creationTs: Number(ts) });
  }
  await hit(fake, "POST", `${A}/v1/deactivate/${enc("@gone:fake.test")}`, {
    token: bot.token,
    json: { erase: false },
  });
  const names: string[] = [];
  let from = "0";
  for (let page = 0; page < 5 && from !== ""; page++) {
    const q = `order_by=creation_ts&dir=b&limit=2&from=${from}`;
    const r = await hit(fake, "GET", `${A}/v2/users?${q}`, { token: bot.token });
    names.push(...(r.body.users as Array<{ name: string }>).map((u) => u.name));
    from = r.body.next_token === undefined ? "" : String(r.body.next_token);
  }
  assert.deepEqual(names, ["@new:fake.test", "@mid:fake.test", "@old:fake.test", bot.userId]);
  assert.equal(fake.users.get("@gone:fake.test")?.deactivated, true);
});

Deno.test("fake Synapse: admin join answers as Synapse does for missing users and existing members", async () => {
  await using fake = startFakeSynapse();
  const bot = fake.addUser("bot", { admin: true });
  const person = fake.addUser("person");
  const roomId = fake.addRoom(bot.userId);
  const join = (userId: string) =>
    hit(fake, "POST", `${A}/v1/join/${enc(roomId)}`, {
      token: bot.token,
      json: { user_id: userId },
    });
  const missing = await join("@nobody:fake.test");
  assert.deepEqual([missing.status, missing.body.errcode], [404, "M_NOT_FOUND"]);
  assert.equal((await join(person.userId)).status, 200);
  assert.deepEqual(fake.members(roomId), [bot.userId, person.userId]);
  const again = await join(person.userId);
  assert.deepEqual([again.status, again.body.errcode], [403, "M_FORBIDDEN"], "invite-only room");
  await hit(fake, "POST", `${A}/v1/deactivate/${enc(person.userId)}`, {
    token: bot.token,
    json: {},
  });
  assert.deepEqual(fake.members(roomId), [bot.userId], "deactivation leaves every room");
  assert.equal(
    (await hit(fake, "GET", `${C}/account/whoami`, { token: person.token })).status,
    401,
  );
});
