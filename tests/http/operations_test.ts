import assert from "node:assert/strict";
import { mtls, plain, RM, TEST_SNAPSHOT, testApp } from "../support/app.ts";
import { createApp } from "../../src/http/app.ts";
import { createUnavailableLifecycle } from "../../src/lifecycle/lifecycle.ts";
import { createMemoryLogger } from "../../src/log/logger.ts";
import { testConfig } from "../support/config.ts";

async function appWithReconcile(calls: boolean[]) {
  return createApp({
    config: await testConfig(),
    lifecycle: createUnavailableLifecycle(),
    health: () => ({ healthy: true, extra: null }),
    status: () => TEST_SNAPSHOT,
    metrics: () => Promise.resolve("matrixrmapi_bootstrap_ready 1\n"),
    reconcile: (dryRun) => {
      calls.push(dryRun);
      return Promise.resolve({
        ok: true,
        dryRun,
        people: 0,
        changes: [],
        driftCorrections: 0,
        error: null,
      });
    },
    log: createMemoryLogger(),
  });
}

const post = (body: unknown) => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

Deno.test("POST /api/v1/reconcile runs for loopback callers on the plain listener only", async () => {
  const calls: boolean[] = [];
  const app = await appWithReconcile(calls);
  const ok = await app.request("/api/v1/reconcile", post({ dry_run: true }), plain("127.0.0.1"));
  assert.equal(ok.status, 200);
  assert.equal((await ok.json()).dry_run, true);
  for (const env of [plain("10.1.2.3"), mtls(RM)]) {
    const refused = await app.request("/api/v1/reconcile", post({}), env);
    assert.equal(refused.status, 403);
  }
  assert.deepEqual(calls, [true]);
});

Deno.test("POST /api/v1/reconcile answers 503 when reconciliation is off", async () => {
  const { app } = await testApp();
  const res = await app.request("/api/v1/reconcile", post({}), plain("::1"));
  assert.equal(res.status, 503);
  assert.match((await res.json()).error, /rasenmaeher\.mtls\.base_uri/);
});

Deno.test("GET /metrics is Prometheus text on the plain listener and absent on mTLS", async () => {
  const app = await appWithReconcile([]);
  const res = await app.request("/metrics", {}, plain());
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  assert.equal(await res.text(), "matrixrmapi_bootstrap_ready 1\n");
  assert.equal((await app.request("/metrics", {}, mtls(RM))).status, 404);
});
