/**
 * The durable lifecycle when KV fails: the answer is `unavailable` (HTTP 503, `success: false`),
 * nothing is recorded and the worker is not woken. (`durable_test.ts` covers the happy path.)
 */
import assert from "node:assert/strict";
import { createDurableLifecycle } from "../../src/lifecycle/durable.ts";
import type { LifecycleAction } from "../../src/lifecycle/lifecycle.ts";
import type { WorkerQueue } from "../../src/lifecycle/worker.ts";
import { createMemoryLogger } from "../../src/log/logger.ts";
import { createWishStore } from "../../src/store/wishes.ts";

/** A worker that applies nothing and counts how often it was woken. */
function idleWorker(): WorkerQueue & { wakes: number } {
  const w = { wakes: 0, wake: () => void w.wakes++ };
  return w;
}

/** `kv` whose commits fail while `broken.on` is set (reads still work): a full or locked disk. */
function breakableKv(kv: Deno.Kv) {
  const broken = { on: false };
  const failing = {
    check: () => failing,
    set: () => failing,
    delete: () => failing,
    commit: () => Promise.reject(new Error("database is locked")),
  };
  const view = {
    get: (key: Deno.KvKey) => kv.get(key),
    list: (selector: Deno.KvListSelector) => kv.list(selector),
    atomic: () => broken.on ? failing : kv.atomic(),
  };
  return { kv: view as unknown as Deno.Kv, broken };
}

const event = (action: Exclude<LifecycleAction, "updated">, userId: string) => ({
  action,
  userId,
  callsign: "A",
  uuid: crypto.randomUUID(),
  receivedAt: new Date(),
});

Deno.test("createDurableLifecycle(): a KV failure is 'unavailable', records nothing, wakes no one", async () => {
  await using real = await Deno.openKv(":memory:");
  const { kv, broken } = breakableKv(real);
  const store = createWishStore(kv);
  const worker = idleWorker();
  const log = createMemoryLogger();
  const lifecycle = createDurableLifecycle({
    store,
    worker,
    log,
    bot: { current: () => ({}), status: () => ({ phase: "ready" }) },
  });

  broken.on = true;
  const first = await lifecycle.submit(event("created", "@a:x"));
  assert.equal(first.kind, "unavailable", JSON.stringify(first));
  assert.match(first.kind === "unavailable" ? first.reason : "", /Cannot record created for @a:x/);
  assert.equal((await real.get(["wish", "@a:x"])).value, null, "no wish");
  assert.equal((await real.get(["pending", "@a:x"])).value, null, "nothing pending");
  assert.equal(worker.wakes, 0, "the worker was not told");
  assert.equal(log.lines.filter((l) => l.includes("cannot record a lifecycle callback")).length, 1);

  // A person already recorded keeps the recorded wish when the next callback cannot be.
  broken.on = false;
  assert.equal((await lifecycle.submit(event("created", "@b:x"))).kind, "accepted");
  const recorded = await store.get("@b:x");
  broken.on = true;
  const promoted = await lifecycle.submit(event("promoted", "@b:x"));
  assert.equal(promoted.kind, "unavailable");
  assert.deepEqual(await store.get("@b:x"), recorded, "the earlier wish is unchanged");

  broken.on = false;
  assert.equal((await lifecycle.submit(event("promoted", "@b:x"))).kind, "accepted");
  assert.equal((await store.get("@b:x"))?.admin, true, "recorded once KV works again");
});
