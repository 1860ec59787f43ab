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

for (const path of PATHS) {
  Deno.test(`${path} answers malformed JSON with 400`, async () => {
    const { postJson } = await testApp();
    const res = await postJson(path, '{"uuid": ', mtls(RM));
    assert.equal(res.status, 400);
    assert.match((await res.json()).error, /malformed JSON/);
  });

  Deno.test(`${path} answers an unknown field with 422 naming it`, async () => {
    const { postJson } = await testApp();
    const res = await postJson(path, { ...crud(), admin: true }, mtls(RM));
    assert.equal(res.status, 422);
    assert.match((await res.json()).error, /json: Unrecognized key: "admin"/);
  });

  Deno.test(`${path} answers a missing or mistyped field with 422 naming it`, async () => {
    const { postJson } = await testApp();
    const res = await postJson(path, { uuid: "u", callsign: 7 }, mtls(RM));
    assert.equal(res.status, 422);
    const error = (await res.json()).error;
    assert.match(error, /json\.callsign: /);
    assert.match(error, /json\.x509cert: /);
  });

  Deno.test(`${path} answers a body over 64 KiB with 413`, async () => {
    const { postJson } = await testApp();
    const res = await postJson(path, { ...crud(), x509cert: "A".repeat(70 * 1024) }, mtls(RM));
    assert.equal(res.status, 413);
    assert.equal((await res.json()).extra, "payload_too_large");
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

Deno.test("unknown routes and methods are JSON 404s", async () => {
  const { app } = await testApp();
  for (const [method, path] of [["GET", "/nope"], ["DELETE", "/api/v1/users/created"]]) {
    const res = await app.request(path!, { method: method! }, mtls(RM));
    assert.equal(res.status, 404);
    assert.equal((await res.json()).extra, "not_found");
  }
});
