import assert from "node:assert/strict";
import { summariseHealth, UNHEALTHY_AFTER_MS } from "../../src/service/health.ts";
import type { BootstrapStatus } from "../../src/bootstrap/bootstrap.ts";

const start = new Date("2026-01-01T00:00:00Z");
const status = (over: Partial<BootstrapStatus>): BootstrapStatus => ({
  phase: "waiting_for_synapse",
  since: start,
  attempt: 1,
  lastError: null,
  lastErrorAt: null,
  botUserId: "@bot:x",
  rooms: null,
  ...over,
});
const later = (ms: number) => new Date(start.getTime() + ms);

Deno.test("summariseHealth() is healthy once the bootstrap is ready", () => {
  assert.deepEqual(summariseHealth(status({ phase: "ready" }), start, later(1e9)), {
    healthy: true,
    extra: "bootstrap ready",
  });
});

Deno.test("summariseHealth() stays healthy while a failing start-up is within its grace period", () => {
  const s = status({ lastError: "Synapse unreachable: connection refused" });
  const h = summariseHealth(s, start, later(UNHEALTHY_AFTER_MS - 1));
  assert.equal(h.healthy, true);
  assert.match(h.extra, /waiting_for_synapse.*last error: Synapse unreachable/);
});

Deno.test("summariseHealth() turns unhealthy when the bootstrap keeps failing past the grace period", () => {
  const s = status({ phase: "error", lastError: "HTTP 403 M_FORBIDDEN: HMAC incorrect" });
  const h = summariseHealth(s, start, later(UNHEALTHY_AFTER_MS + 1));
  assert.equal(h.healthy, false);
  assert.match(h.extra, /bootstrap error .*HMAC incorrect/);
});
