import assert from "node:assert/strict";
import { createRegistry, METRICS } from "../../src/metrics/registry.ts";
import { parsePrometheus } from "../support/prometheus.ts";

Deno.test("the registry renders counters, gauges and summaries as valid Prometheus text", async () => {
  const r = createRegistry(METRICS);
  r.inc("matrixrmapi_callbacks_total", { route: "created", result: "applied" });
  r.inc("matrixrmapi_callbacks_total", { route: "created", result: "applied" });
  r.set("matrixrmapi_pending_wishes", 3);
  r.observe("matrixrmapi_synapse_request_seconds", 0.25, { endpoint: 'GET /x "q"' });
  r.observe("matrixrmapi_synapse_request_seconds", 0.75, { endpoint: 'GET /x "q"' });
  const s = parsePrometheus(await r.render());
  assert.equal(s.get('matrixrmapi_callbacks_total{route="created",result="applied"}'), 2);
  assert.equal(s.get("matrixrmapi_pending_wishes"), 3);
  assert.equal(s.get('matrixrmapi_synapse_request_seconds_sum{endpoint="GET /x \\"q\\""}'), 1);
  assert.equal(s.get('matrixrmapi_synapse_request_seconds_count{endpoint="GET /x \\"q\\""}'), 2);
});

Deno.test("the registry refuses unknown metrics instead of inventing them", () => {
  const r = createRegistry(METRICS);
  assert.throws(() => r.inc("nope_total"), /Unknown metric "nope_total"/);
});
