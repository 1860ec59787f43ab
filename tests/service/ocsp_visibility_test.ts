/** @module An OCSP outage is a visible state (health extra, status), never a quiet fallback. */
import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/config.ts";
import { describeMtlsHealth } from "../../src/service/observe.ts";
import { createMtlsListenerState, type OcspHealth } from "../../src/transport/listener_state.ts";
import { TEST_MANIFEST } from "../support/config.ts";

const crl = { health: () => ({ configured: true, inForce: 2, problems: [] }) };
const ocsp = (mode: OcspHealth["mode"], problems: string[]) => ({
  health: (): OcspHealth => ({
    mode,
    url: null,
    lookups: 3,
    cacheHits: 0,
    good: 2,
    revoked: 0,
    unknown: 0,
    failures: problems.length,
    problems,
  }),
});

Deno.test("health extra says OCSP is degraded and that the CRL decides meanwhile", () => {
  const state = createMtlsListenerState(true);
  state.enter("listening");
  state.attach(crl, ocsp("on", ["no OCSP verdict since …: cannot reach the OCSP responder"]));
  assert.equal(
    describeMtlsHealth(state),
    "; revocation by OCSP degraded (the CRL decides): no OCSP verdict since …: cannot reach " +
      "the OCSP responder",
  );
  assert.equal(state.status().ocsp?.failures, 1);
});

Deno.test("health extra says clients are refused while OCSP is required and unavailable", () => {
  const state = createMtlsListenerState(true);
  state.enter("listening");
  state.attach(crl, ocsp("required", ["no OCSP verdict since …: timed out"]));
  assert.match(describeMtlsHealth(state), /OCSP degraded \(clients refused\)/);
});

Deno.test("health extra is silent about OCSP while it gives verdicts", () => {
  const state = createMtlsListenerState(true);
  state.enter("listening");
  state.attach(crl, ocsp("on", []));
  assert.equal(describeMtlsHealth(state), "");
});

const parse = (env: Record<string, string>) =>
  parseConfig(
    { SYNAPSE_REGISTRATION_SECRET: "s", KRAFTWERK_MANIFEST: "/m.json", ...env },
    () => Promise.resolve(JSON.stringify(TEST_MANIFEST)),
  );

Deno.test("parseConfig() reads MTLS_OCSP*: on with the AIA, 2 s, a minute's cache by default", async () => {
  const defaults = await parse({});
  assert.ok(defaults.ok);
  assert.deepEqual(defaults.config.mtls.ocsp, {
    mode: "on",
    url: null,
    timeoutMs: 2000,
    maxCacheMs: 60_000,
  });
  const set = await parse({
    MTLS_OCSP: "required",
    MTLS_OCSP_URL: "http://ocsp:8889/",
    MTLS_OCSP_TIMEOUT_S: "0.5",
    MTLS_OCSP_CACHE_S: "30",
  });
  assert.ok(set.ok);
  assert.deepEqual(set.config.mtls.ocsp, {
    mode: "required",
    url: "http://ocsp:8889/",
    timeoutMs: 500,
    maxCacheMs: 30_000,
  });
});

Deno.test("parseConfig() names a bad MTLS_OCSP value and a cache beyond five minutes", async () => {
  const bad = await parse({ MTLS_OCSP: "maybe", MTLS_OCSP_CACHE_S: "3600" });
  assert.ok(!bad.ok);
  const text = bad.problems.join("\n");
  assert.match(text, /MTLS_OCSP.*off, on or required/);
  assert.match(text, /MTLS_OCSP_CACHE_S/);
});
