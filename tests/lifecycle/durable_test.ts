import assert from "node:assert/strict";
import { createDurableLifecycle } from "../../src/lifecycle/durable.ts";
import { createWishStore } from "../../src/store/wishes.ts";
import { createMemoryLogger } from "../../src/log/logger.ts";
import type { WorkerQueue } from "../../src/lifecycle/worker.ts";
import { createRegistry, METRICS } from "../../src/metrics/registry.ts";

/** A worker that never applies anything and counts how often it was woken. */
function idleWorker(): WorkerQueue & { wakes: number } {
  const w = { wakes: 0, wake: () => void w.wakes++ };
  return w;
}

Deno.test("createDurableLifecycle() answers as soon as the wish is committed", async () => {
  await using kv = await Deno.openKv(":memory:");
  const store = createWishStore(kv);
  const worker = idleWorker();
  const lifecycle = createDurableLifecycle({
    store,
    worker,
    log: createMemoryLogger(),
    bot: { current: () => ({}), status: () => ({ phase: "ready" }) },
  });
  const outcome = await lifecycle.submit({
    action: "created",
    userId: "@a:x",
    callsign: "A",
    uuid: "u",
    receivedAt: new Date(),
  });
  assert.equal(outcome.kind, "accepted");
  assert.match(outcome.kind === "accepted" ? outcome.detail : "", /recorded; it will be applied/);
  assert.equal(worker.wakes, 1, "the worker was woken");
  assert.equal((await store.get("@a:x"))?.member, true, "committed before the answer");
});

Deno.test("createDurableLifecycle(): during the bootstrap the answer says what the work waits for; every answer is counted", async () => {
  await using kv = await Deno.openKv(":memory:");
  const metrics = createRegistry(METRICS);
  const lifecycle = createDurableLifecycle({
    store: createWishStore(kv, { metrics }),
    worker: idleWorker(),
    log: createMemoryLogger(),
    bot: { current: () => null, status: () => ({ phase: "waiting_for_synapse" }) },
    metrics,
  });
  const event = (action: "created" | "revoked") => ({
    action,
    userId: "@a:x",
    callsign: "A",
    uuid: "u",
    receivedAt: new Date(),
  });
  const outcome = await lifecycle.submit(event("created"));
  assert.equal(outcome.kind, "accepted");
  assert.match(
    outcome.kind === "accepted" ? outcome.detail : "",
    /created for @a:x recorded; it will be applied \(bootstrap waiting_for_synapse\)/,
  );
  await lifecycle.submit(event("revoked"));
  assert.equal((await lifecycle.submit(event("created"))).kind, "conflict");
  const text = await metrics.render();
  assert.match(text, /matrixrmapi_callbacks_total\{route="created",result="accepted"\} 1/);
  assert.match(text, /matrixrmapi_callbacks_total\{route="revoked",result="accepted"\} 1/);
  assert.match(text, /matrixrmapi_callbacks_total\{route="created",result="conflict"\} 1/);
  assert.match(text, /matrixrmapi_kv_writes_total 2/, "two wishes committed, the refused one not");
});
