/** @module Linkerd's `l5d-client-id`, read as libpvarki reads it, only when asked. */
import assert from "node:assert/strict";
import { crud, plain, testApp } from "../support/app.ts";

const INGRESS = "traefik.traefik-system.serviceaccount.identity.linkerd.cluster.local";
const LATERAL = "tak.app-tak.serviceaccount.identity.linkerd.cluster.local";
const RM_DN = "CN=rasenmaeher,O=N/A";
const MESH = { MTLS_TRUST_L5D: "true", MTLS_TRUSTED_INGRESS_IDENTITIES: INGRESS };
const STRICT = { ...MESH, MTLS_REQUIRE_L5D: "true" };
const HEADER_TRUST = { MTLS_TRUST_PROXY_HEADER: "true", MTLS_TRUSTED_PROXIES: "10.0.0.0/8" };

/** A lifecycle callback over the plain listener: 503 = accepted as RM; 403 = not RM. */
async function asRm(
  env: Record<string, string>,
  headers: Record<string, string>,
  peer = "127.0.0.1",
): Promise<number> {
  const { app } = await testApp({ env });
  const res = await app.request("/api/v1/users/created", {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(crud()),
  }, plain(peer));
  return res.status;
}

/** A route for any verified caller: 200 = someone; 403 = nobody. */
async function anyone(env: Record<string, string>, headers: Record<string, string>) {
  const { app } = await testApp({ env });
  const res = await app.request("/api/v2/clients/data", {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(crud()),
  }, plain("127.0.0.1"));
  return res.status;
}

Deno.test("l5d: off by default — the mesh header is ignored and names nobody", async () => {
  assert.equal(await anyone({}, { "l5d-client-id": LATERAL }), 403);
});

Deno.test("l5d: a lateral mesh identity is the caller, and a certificate header it adds is ignored", async () => {
  assert.equal(await anyone(MESH, { "l5d-client-id": LATERAL }), 200);
  assert.equal(
    await asRm({ ...MESH, ...HEADER_TRUST }, {
      "l5d-client-id": LATERAL,
      "x-clientcert-dn": RM_DN,
    }),
    403,
    "a spoofed RM DN from a lateral service is not RM",
  );
});

Deno.test("l5d: through a trusted ingress the forwarded certificate header is the caller", async () => {
  assert.equal(await asRm(MESH, { "l5d-client-id": INGRESS, "x-clientcert-dn": RM_DN }), 503);
  assert.equal(
    await anyone(MESH, { "l5d-client-id": INGRESS }),
    403,
    "ingress without a certificate",
  );
});

Deno.test("l5d: required — no mesh identity is nobody, even with a trusted certificate header", async () => {
  assert.equal(
    await asRm({ ...STRICT, ...HEADER_TRUST }, { "x-clientcert-dn": RM_DN }, "10.1.2.3"),
    403,
  );
  assert.equal(await asRm(STRICT, { "l5d-client-id": INGRESS, "x-clientcert-dn": RM_DN }), 503);
});

Deno.test("l5d: not required — an unmeshed caller still needs the usual trusted proxy header", async () => {
  assert.equal(
    await asRm({ ...MESH, ...HEADER_TRUST }, { "x-clientcert-dn": RM_DN }, "10.1.2.3"),
    503,
  );
  assert.equal(await asRm(MESH, { "x-clientcert-dn": RM_DN }, "10.1.2.3"), 403);
});

Deno.test("l5d: the mesh header counts only from the pod's own proxy (loopback) or a trusted proxy", async () => {
  assert.equal(
    await asRm(MESH, { "l5d-client-id": INGRESS, "x-clientcert-dn": RM_DN }, "192.0.2.7"),
    403,
  );
  assert.equal(
    await asRm(
      { ...MESH, ...HEADER_TRUST },
      { "l5d-client-id": INGRESS, "x-clientcert-dn": RM_DN },
      "10.9.9.9",
    ),
    503,
  );
});

Deno.test("l5d: a malformed mesh identity names nobody; MTLS_L5D_HEADER_NAME renames the header", async () => {
  assert.equal(await anyone(MESH, { "l5d-client-id": "CN=admin,O=x" }), 403);
  assert.equal(
    await anyone({ ...MESH, MTLS_L5D_HEADER_NAME: "x-mesh-id" }, { "x-mesh-id": LATERAL }),
    200,
  );
});

Deno.test("MTLS_REQUIRE_L5D without MTLS_TRUST_L5D is a configuration error", async () => {
  await assert.rejects(testApp({ env: { MTLS_REQUIRE_L5D: "true" } }), /MTLS_REQUIRE_L5D: needs/);
});
