import assert from "node:assert/strict";
import { crud, mtls, RM, testApp } from "../support/app.ts";

const PATHS = [
  "/api/v1/users/created",
  "/api/v1/instructions/fi",
  "/api/v2/clients/data",
  "/api/v2/admin/clients/data",
  "/api/v2/clients/en/info.md",
  "/api/v1/clients/fragment",
];

/** The error's message: from the JSON body, or from the page the Markdown route answers with. */
async function errorOf(res: Response): Promise<string> {
  if ((res.headers.get("content-type") ?? "").startsWith("text/markdown")) return await res.text();
  return (await res.json()).error;
}

for (const path of PATHS) {
  Deno.test(`${path} answers malformed JSON with 400`, async () => {
    const { postJson } = await testApp();
    const res = await postJson(path, '{"uuid": ', mtls(RM));
    assert.equal(res.status, 400);
    assert.match(await errorOf(res), /malformed JSON/);
  });

  Deno.test(`${path} answers an unknown field with 422 naming it`, async () => {
    const { postJson } = await testApp();
    const res = await postJson(path, { ...crud(), admin: true }, mtls(RM));
    assert.equal(res.status, 422);
    assert.match(await errorOf(res), /json: Unrecognized key: "admin"/);
  });

  Deno.test(`${path} answers a missing or mistyped field with 422 naming it`, async () => {
    const { postJson } = await testApp();
    const res = await postJson(path, { uuid: "u", callsign: 7 }, mtls(RM));
    assert.equal(res.status, 422);
    const error = await errorOf(res);
    assert.match(error, /json\.callsign: /);
    assert.match(error, /json\.x509cert: /);
  });

  Deno.test(`${path} answers a body over 64 KiB with 413`, async () => {
    const { postJson } = await testApp();
    const res = await postJson(path, { ...crud(), x509cert: "A".repeat(70 * 1024) }, mtls(RM));
    assert.equal(res.status, 413);
    assert.match(await errorOf(res), /Request body is over 65536 bytes/);
  });

  Deno.test(`${path} answers a non-JSON content type with 415`, async () => {
    const { app } = await testApp();
    const res = await app.request(path, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: JSON.stringify(crud()),
    }, mtls(RM));
    assert.equal(res.status, 415);
  });
}

Deno.test("a JSON array, null or string body is a 422, never a 500", async () => {
  const { postJson } = await testApp();
  for (const body of ["[]", "null", '"x"', "1e999", '{"__proto__": {"x": 1}}']) {
    const res = await postJson("/api/v1/users/created", body, mtls(RM));
    assert.equal(res.status, 422, body);
  }
});

Deno.test("an oversized body without Content-Length is still refused with 413", async () => {
  const { app } = await testApp();
  const chunk = new TextEncoder().encode("x".repeat(16 * 1024));
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent++ < 8) controller.enqueue(chunk);
      else controller.close();
    },
  });
  const res = await app.request("/api/v1/users/created", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: stream,
  }, mtls(RM));
  assert.equal(res.status, 413);
});

Deno.test("a bad language tag is a 422 naming the parameter", async () => {
  const { app } = await testApp();
  const res = await app.request("/api/v1/description/%3Cscript%3E", {}, mtls(RM));
  assert.equal(res.status, 422);
  assert.match((await res.json()).error, /param\.lang: /);
});

Deno.test("unknown routes are JSON 404s; a known route with another method is a JSON 405 with Allow", async () => {
  const { app } = await testApp();
  const nope = await app.request("/nope", { method: "GET" }, mtls(RM));
  assert.equal(nope.status, 404);
  assert.equal((await nope.json()).extra, "not_found");
  const wrong = await app.request("/api/v1/users/created", { method: "DELETE" }, mtls(RM));
  assert.equal(wrong.status, 405);
  assert.equal(wrong.headers.get("allow"), "POST");
  assert.equal((await wrong.json()).extra, "method_not_allowed");
});

Deno.test("hostile input on every route never produces a 500", async () => {
  const { app } = await testApp();
  const routes = app.routes.filter((r) => r.method !== "ALL");
  const bodies: Array<BodyInit | undefined> = [
    undefined,
    "",
    "\u0000\u0001\u0002",
    '{"uuid":"a","callsign":"\\ud800","x509cert":"x"}',
    JSON.stringify({ uuid: "a", callsign: "a".repeat(5000), x509cert: "x" }),
    JSON.stringify({ uuid: "a", callsign: "%00../../etc", x509cert: "x" }),
    JSON.stringify({ uuid: { $ne: 1 }, callsign: ["x"], x509cert: null }),
    "[".repeat(10_000),
    new Uint8Array([0xff, 0xfe, 0xfd]),
  ];
  const paramValues = ["fi", "..%2F..", "%ff", "x".repeat(300), "%00"];
  let requests = 0;
  for (const route of routes) {
    for (const value of paramValues) {
      const path = route.path.replace(/:\w+/g, value);
      for (const body of route.method === "GET" ? [undefined] : bodies) {
        for (const env of [mtls(RM), plainEnv()]) {
          const res = await app.request(path, {
            method: route.method,
            ...(body === undefined
              ? {}
              : { body, headers: { "content-type": "application/json" } }),
          }, env);
          requests++;
          // 503 is the honest "lifecycle not available" answer to a valid callback; 500 never.
          const expected = res.status < 500 ||
            (res.status === 503 && (await res.clone().json()).extra === "unavailable");
          assert.ok(expected, `${route.method} ${path} → ${res.status}`);
          await res.body?.cancel();
        }
      }
    }
  }
  assert.ok(requests > 300);
});

function plainEnv() {
  return { transport: { kind: "plain" as const, remoteAddress: "203.0.113.9" } };
}
