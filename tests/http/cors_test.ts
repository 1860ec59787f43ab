import assert from "node:assert/strict";
import { mtls, PERSON, plain, RM, testApp } from "../support/app.ts";

const RM_ORIGIN = "https://golden-monkey.dev.example.fi"; // from the test manifest's init base_uri

Deno.test("RM's origin may read public routes with credentials", async () => {
  const { app } = await testApp();
  const res = await app.request(
    "/api/v2/description/fi",
    { headers: { origin: RM_ORIGIN } },
    plain(),
  );
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("access-control-allow-origin"), RM_ORIGIN);
  assert.equal(res.headers.get("access-control-allow-credentials"), "true");
  await res.body?.cancel();
});

Deno.test("a preflight from RM's origin for a certificate route is allowed", async () => {
  const { app } = await testApp();
  const res = await app.request("/api/v2/clients/data", {
    method: "OPTIONS",
    headers: {
      origin: RM_ORIGIN,
      "access-control-request-method": "POST",
      "access-control-request-headers": "content-type",
    },
  }, mtls(PERSON));
  assert.equal(res.status, 204);
  assert.equal(res.headers.get("access-control-allow-origin"), RM_ORIGIN);
  assert.match(res.headers.get("access-control-allow-methods") ?? "", /POST/);
  assert.equal(res.headers.get("access-control-allow-credentials"), "true");
});

Deno.test("another origin gets no CORS headers, on any route", async () => {
  const { app } = await testApp();
  for (const origin of ["https://evil.example", `${RM_ORIGIN}:8443`, "null"]) {
    const res = await app.request("/api/v1/healthcheck", { headers: { origin } }, plain());
    assert.equal(res.headers.get("access-control-allow-origin"), null, origin);
    assert.equal(res.headers.get("access-control-allow-credentials"), null, origin);
    await res.body?.cancel();
  }
});

Deno.test("RM-only and operator routes get no CORS headers even for RM's origin", async () => {
  const { app, postJson } = await testApp();
  const status = await app.request("/api/v1/status", { headers: { origin: RM_ORIGIN } }, plain());
  assert.equal(status.headers.get("access-control-allow-origin"), null);
  await status.body?.cancel();
  const res = await app.request("/api/v1/users/created", {
    method: "OPTIONS",
    headers: { origin: RM_ORIGIN, "access-control-request-method": "POST" },
  }, mtls(RM));
  assert.equal(res.headers.get("access-control-allow-origin"), null);
  await res.body?.cancel();
  const post = await postJson("/api/v1/users/created", {}, mtls(RM));
  assert.equal(post.headers.get("access-control-allow-origin"), null);
  await post.body?.cancel();
});
