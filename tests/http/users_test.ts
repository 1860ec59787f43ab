import assert from "node:assert/strict";
import { crud, mtls, PERSON, plain, RM, testApp } from "../support/app.ts";

const ACTIONS = [
  ["created", "POST"],
  ["revoked", "POST"],
  ["promoted", "POST"],
  ["demoted", "POST"],
] as const;

for (const [action, method] of ACTIONS) {
  Deno.test(`POST /api/v1/users/${action} from RM hands the Matrix ID to the lifecycle and answers 503 until it exists`, async () => {
    const { postJson, submitted } = await testApp();
    const res = await postJson(`/api/v1/users/${action}`, crud("ROTTA01a"), mtls(RM), method);
    assert.equal(res.status, 503);
    assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
    const body = await res.json();
    assert.equal(body.success, false);
    assert.match(body.error, /not available yet/);
    assert.deepEqual(Object.keys(body).sort(), ["error", "extra", "success"]);
    assert.equal(submitted.length, 1);
    assert.equal(submitted[0]?.action, action);
    assert.equal(submitted[0]?.userId, "@rotta01a:golden-monkey.dev.example.fi");
  });
}

Deno.test("PUT /api/v1/users/updated succeeds and says nothing changed in Matrix", async () => {
  const { postJson } = await testApp();
  const res = await postJson("/api/v1/users/updated", crud(), mtls(RM), "PUT");
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.success, true);
  assert.match(body.extra, /^noop: .*new Matrix account/);
});

Deno.test("the lifecycle's success outcome is reported with its kind in extra", async () => {
  const { postJson } = await testApp({
    lifecycle: { submit: () => Promise.resolve({ kind: "accepted", detail: "queued" }) },
  });
  const body = await (await postJson("/api/v1/users/created", crud(), mtls(RM))).json();
  assert.deepEqual(body, { success: true, extra: "accepted: queued", error: null });
});

Deno.test("user lifecycle routes refuse a person's certificate with 403", async () => {
  const { postJson, submitted } = await testApp();
  const res = await postJson("/api/v1/users/revoked", crud("VICTIM"), mtls(PERSON));
  assert.equal(res.status, 403);
  assert.equal((await res.json()).success, false);
  assert.equal(submitted.length, 0);
});

Deno.test("user lifecycle routes refuse a caller with no certificate with 403", async () => {
  const { postJson, submitted } = await testApp();
  const res = await postJson("/api/v1/users/promoted", crud(), plain());
  assert.equal(res.status, 403);
  assert.equal(submitted.length, 0);
});

Deno.test("user lifecycle routes refuse requests that came through RM's product proxy", async () => {
  const { app, submitted } = await testApp();
  const res = await app.request("/api/v1/users/created", {
    method: "POST",
    headers: { "content-type": "application/json", "x-rasenmaeher-proxy": "productproxy" },
    body: JSON.stringify(crud()),
  }, mtls(RM));
  assert.equal(res.status, 403);
  assert.match((await res.json()).error, /product proxy/);
  assert.equal(submitted.length, 0);
});

Deno.test("a callsign that cannot become a Matrix ID is refused with 422 and the reason", async () => {
  const { postJson, submitted } = await testApp();
  const res = await postJson("/api/v1/users/created", crud(""), mtls(RM));
  assert.equal(res.status, 422);
  assert.match((await res.json()).error, /Cannot map callsign "" to a Matrix ID: it is empty/);
  assert.equal(submitted.length, 0);
});

Deno.test("awkward callsigns reach the lifecycle as Synapse's OIDC login would map them", async () => {
  const { postJson, submitted } = await testApp();
  await postJson("/api/v1/users/created", crud("_Äijä=1"), mtls(RM));
  assert.equal(submitted[0]?.userId, "@=5f=c3=a4ij=c3=a4=3d1:golden-monkey.dev.example.fi");
});

Deno.test("a refused callback (revocation is final) is a 409 with success: false", async () => {
  const { postJson } = await testApp({
    lifecycle: { submit: () => Promise.resolve({ kind: "conflict", reason: "revoked is final" }) },
  });
  const res = await postJson("/api/v1/users/created", crud(), mtls(RM));
  assert.equal(res.status, 409);
  assert.deepEqual(await res.json(), {
    success: false,
    error: "revoked is final",
    extra: "conflict",
  });
});

Deno.test("a callback that could not be recorded is a 503 with success: false", async () => {
  const { postJson } = await testApp({
    lifecycle: {
      submit: () => Promise.resolve({ kind: "unavailable", reason: "the local database failed" }),
    },
  });
  const res = await postJson("/api/v1/users/promoted", crud(), mtls(RM));
  assert.equal(res.status, 503);
  assert.equal((await res.json()).success, false);
});

Deno.test("callsigns that map to the service's own bot or its recovery admins are refused with 409", async () => {
  const { postJson, submitted } = await testApp();
  for (
    const callsign of ["matrixrmapi-bot", "MatrixRMAPI-Bot", "matrixrmapi-bot-recovery-1a2b3c4d"]
  ) {
    for (const [action, method] of [...ACTIONS, ["updated", "PUT"] as const]) {
      const res = await postJson(`/api/v1/users/${action}`, crud(callsign), mtls(RM), method);
      assert.equal(res.status, 409, `${action} ${callsign}`);
      const body = await res.json();
      assert.equal(body.success, false);
      assert.match(body.error, /this service's own bot|this service's recovery admins/);
    }
  }
  assert.equal(submitted.length, 0, "nothing reached the lifecycle");
  const near = await postJson("/api/v1/users/created", crud("matrixrmapi-bot2"), mtls(RM));
  assert.equal(near.status, 503, "a merely similar callsign is a person like any other");
  await near.body?.cancel();
});

Deno.test("callbacks for RM's own anon_admin answer 200 'ignored', reach no lifecycle, and are logged once", async () => {
  const { postJson, submitted, log } = await testApp();
  for (const action of ["created", "promoted", "created"]) {
    const res = await postJson(`/api/v1/users/${action}`, crud("anon_admin"), mtls(RM));
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.success, true);
    assert.match(body.extra, /^ignored: "anon_admin" is Rasenmaeher's own account/);
  }
  assert.equal(submitted.length, 0, "no wish, so nothing can stay pending");
  const said = log.lines.filter((l) => l.includes("Rasenmaeher's own account"));
  assert.equal(said.length, 1, "logged once per process, not per callback");
});

Deno.test("RM_OWN_CALLSIGNS replaces the list of RM's own accounts; a similar callsign is a person", async () => {
  const { postJson, submitted } = await testApp({
    env: { RM_OWN_CALLSIGNS: "rm_robot, anon_admin" },
  });
  const own = await (await postJson("/api/v1/users/created", crud("rm_robot"), mtls(RM))).json();
  assert.match(own.extra, /^ignored: /);
  await postJson("/api/v1/users/created", crud("anon_admin2"), mtls(RM));
  assert.deepEqual(submitted.map((e) => e.callsign), ["anon_admin2"]);
});
