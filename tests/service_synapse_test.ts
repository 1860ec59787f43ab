/**
 * End to end: `main.ts serve` as a process with a generated PKI, called over real sockets on
 * both listeners, as RM and nginx would call it.
 */
import assert from "node:assert/strict";
import { waitFor } from "./support/wait.ts";
import { startServiceProcess, writeManifest } from "./support/service.ts";
import { crud } from "./support/app.ts";
import { synapseTest, type TestHomeserver, uniqueName } from "./support/synapse.ts";
import { parsePrometheus } from "./support/prometheus.ts";

const manifest = async (deployment: string, serverName: string) =>
  writeManifest(await Deno.makeTempFile({ suffix: ".json" }), deployment, serverName);

const startService = (env: Record<string, string> = {}) => startServiceProcess({ env });

/** Variables for a service on the test Synapse, with a deployment and bot of its own. */
const onSynapse = async (hs: TestHomeserver, tag: string) => ({
  SYNAPSE_URL: hs.url,
  SYNAPSE_REGISTRATION_SECRET: hs.secret,
  SERVER_DOMAIN: hs.serverName,
  SYNAPSE_BOT_USERNAME: uniqueName(`${tag}bot`),
  KRAFTWERK_MANIFEST: await manifest(uniqueName(tag), hs.serverName),
});

Deno.test("the service answers RM over mTLS and refuses a person on RM-only routes", async () => {
  const s = await startService();
  try {
    const info = await s.call("rm", "/api/v2/clients/fi/info.md", crud("DEVUSER1a"));
    assert.equal(info.status, 200, info.text);
    assert.match(info.text, /@devuser1a:localmaeher\.dev\.pvarki\.fi/);
    const asPerson = await s.call("user", "/api/v2/clients/fi/info.md", crud("DEVUSER1a"));
    assert.equal(asPerson.status, 403);
    const data = await s.call("user", "/api/v2/clients/data", crud("DEVUSER1a"));
    assert.equal(data.status, 200);
    // Synapse is unreachable here: the callback is durably accepted, not applied.
    const lifecycle = await s.call("rm", "/api/v1/users/created", crud("DEVUSER1a"));
    assert.equal(lifecycle.status, 200);
    assert.equal(JSON.parse(lifecycle.text).success, true);
    assert.match(JSON.parse(lifecycle.text).extra, /^accepted: .*bootstrap waiting_for_synapse/);
  } finally {
    const out = await s.stop();
    assert.equal(out.code, 0);
    assert.doesNotMatch(out.stdout + out.stderr, /e2e-secret/);
  }
});

Deno.test("the plain listener honours the proxy header only from a trusted address", async () => {
  const trusted = await startService({
    MTLS_TRUST_PROXY_HEADER: "true",
    MTLS_TRUSTED_PROXIES: "127.0.0.1/32",
  });
  try {
    const res = await trusted.plainPost("/api/v2/clients/en/info.md", crud("DEVUSER1a"), {
      "X-ClientCert-DN": "CN=rasenmaeher,O=x",
    });
    assert.equal(res.status, 200, res.text);
  } finally {
    await trusted.stop();
  }
  const untrusted = await startService({
    MTLS_TRUST_PROXY_HEADER: "true",
    MTLS_TRUSTED_PROXIES: "10.0.0.0/8",
  });
  try {
    const res = await untrusted.plainPost("/api/v2/clients/en/info.md", crud("DEVUSER1a"), {
      "X-ClientCert-DN": "CN=rasenmaeher",
    });
    assert.equal(res.status, 403);
  } finally {
    const out = await untrusted.stop();
    assert.match(out.stderr, /ignored client-certificate header from an untrusted peer/);
  }
});

synapseTest(
  "the service bootstraps against the real Synapse and reports it in health and status",
  async (hs) => {
    const s = await startService(await onSynapse(hs, "svc"));
    try {
      type Status = { bootstrap: { phase: string; rooms: Record<string, string> | null } };
      let status: Status | null = null;
      await waitFor("the bootstrap", async () => {
        status = JSON.parse((await s.plainGet("/api/v1/status")).text) as Status;
        return status.bootstrap.phase === "ready";
      }, { timeoutMs: 60_000 }).catch(() => {});
      status = status as Status | null;
      assert.equal(status?.bootstrap.phase, "ready", JSON.stringify(status));
      assert.deepEqual(Object.keys(status?.bootstrap.rooms ?? {}).sort(), [
        "admin",
        "general",
        "helpdesk",
        "offtopic",
        "space",
      ]);
      const health = JSON.parse((await s.plainGet("/api/v1/healthcheck")).text);
      // No csr_jwt and no certificate in this setup: the certificate phase says so.
      assert.deepEqual(health, {
        healthy: true,
        extra: "bootstrap ready; certificate blocked; oidc client waiting_for_certificate",
      });
    } finally {
      const out = await s.stop();
      assert.equal(out.code, 0);
      assert.doesNotMatch(out.stdout + out.stderr, new RegExp(hs.secret));
    }
  },
);

synapseTest("/metrics parses as Prometheus text and moves when work happens", async (hs) => {
  const s = await startService(await onSynapse(hs, "met"));
  try {
    const scrape = async () => parsePrometheus((await s.plainGet("/metrics")).text);
    await waitFor(
      "bootstrap_ready 1",
      async () => (await scrape()).get("matrixrmapi_bootstrap_ready") === 1,
      { timeoutMs: 60_000 },
    ).catch(() => {}); // asserted next, with the scrape in the message
    const before = await scrape();
    assert.equal(before.get("matrixrmapi_bootstrap_ready"), 1);
    assert.equal(before.get('matrixrmapi_bootstrap_phase{phase="ready"}'), 1);
    const key = 'matrixrmapi_callbacks_total{route="created",result="accepted"}';
    assert.equal(before.get(key) ?? 0, 0);
    await s.call("rm", "/api/v1/users/created", crud(uniqueName("NEVERLOGGEDIN")));
    const after = await scrape();
    assert.equal(after.get(key), 1);
    assert.equal(after.get("matrixrmapi_pending_wishes"), 1);
    const synapseCalls = [...after.entries()].filter(([k]) =>
      k.startsWith("matrixrmapi_synapse_requests_total")
    );
    assert.ok(synapseCalls.length > 0 && synapseCalls.every(([, v]) => v > 0));
    const status = await s.plainGet("/api/v1/status");
    assert.equal(JSON.parse(status.text).lifecycle.pending, 1);
  } finally {
    await s.stop();
  }
});
