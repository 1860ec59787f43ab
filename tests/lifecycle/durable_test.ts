import assert from "node:assert/strict";
import { createDurableLifecycle } from "../../src/lifecycle/durable.ts";
import { createWishStore } from "../../src/store/wishes.ts";
import { createMemoryLogger } from "../../src/log/logger.ts";
import type { WorkerQueue } from "../../src/lifecycle/worker.ts";

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
    notReadyReason: () => null,
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
