import assert from "node:assert/strict";
import { createDurableLifecycle } from "../../src/lifecycle/durable.ts";
import { createWishStore } from "../../src/store/wishes.ts";
import { createMemoryLogger } from "../../src/log/logger.ts";
import type { WorkerQueue } from "../../src/lifecycle/worker.ts";

/** A worker that never applies anything and records whether anyone waited for it. */
function idleWorker(): WorkerQueue & { waits: number; wakes: number } {
  const w = {
    waits: 0,
    wakes: 0,
    wake: () => void w.wakes++,
    saturated: () => false,
    waitApplied: () => {
      w.waits++;
      return new Promise<boolean>(() => {}); // never settles: a wait would hang the answer
    },
  };
  return w;
}

Deno.test("createDurableLifecycle() answers as soon as the wish is committed, by default", async () => {
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
  assert.equal(worker.waits, 0, "nobody waited for the worker");
  assert.equal(worker.wakes, 1, "the worker was woken");
  assert.equal((await store.get("@a:x"))?.member, true, "committed before the answer");
});
