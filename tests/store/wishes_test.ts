import assert from "node:assert/strict";
import { CorruptRecordError } from "../../src/store/store.ts";
import { createWishStore, wishKeys, type WishRecord } from "../../src/store/wishes.ts";
import { wishRecord } from "../support/wishes.ts";

const USER = "@person:example.test";

/** A valid wish record of USER; `over` changes fields. */
const wish = (over: Partial<WishRecord> = {}) => wishRecord({ userId: USER, ...over });

Deno.test("WishStore.update() records a wish, and a refusal returns the current one and writes nothing", async () => {
  await using kv = await Deno.openKv(":memory:");
  const store = createWishStore(kv);
  const refusedFirst = await store.update(USER, () => null);
  assert.deepEqual(refusedFirst, { kind: "refused", record: null });
  assert.equal((await kv.get(wishKeys.wish(USER))).versionstamp, null);

  const recorded = await store.update(USER, (current) => current === null ? wish() : null);
  assert.deepEqual(recorded, { kind: "recorded", record: wish() });
  const stamp = (await kv.get(wishKeys.wish(USER))).versionstamp;
  const seen: Array<WishRecord | null> = [];
  const refused = await store.update(USER, (current) => {
    seen.push(current);
    return null;
  });
  assert.deepEqual(refused, { kind: "refused", record: wish() });
  assert.deepEqual(seen, [wish()], "the change saw what was stored");
  assert.equal((await kv.get(wishKeys.wish(USER))).versionstamp, stamp, "nothing written");
  assert.deepEqual(await store.get(USER), wish());
});

Deno.test("WishStore.update() refuses a record that breaks the schema before writing it", async () => {
  await using kv = await Deno.openKv(":memory:");
  const store = createWishStore(kv);
  await store.update(USER, () => wish());
  await assert.rejects(() => store.update(USER, (c) => ({ ...c!, generation: -1 })));
  await assert.rejects(() => store.update(USER, (c) => ({ ...c!, updatedAt: "yesterday" })));
  assert.deepEqual(await store.get(USER), wish());
});

Deno.test("WishStore.update(): racing updates are serialised, none lost", async () => {
  await using kv = await Deno.openKv(":memory:");
  const store = createWishStore(kv);
  await store.update(USER, () => wish({ generation: 0 }));
  let calls = 0;
  const racers = 20;
  const results = await Promise.all(
    Array.from({ length: racers }, () =>
      store.update(USER, (current) => {
        calls++;
        return { ...current!, generation: current!.generation + 1 };
      })),
  );
  assert.ok(results.every((r) => r.kind === "recorded"));
  const generations = results.map((r) => r.record?.generation).sort((a, b) => a! - b!);
  assert.deepEqual(generations, Array.from({ length: racers }, (_, i) => i + 1));
  assert.equal((await store.get(USER))?.generation, racers);
  assert.ok(calls > racers, `the writers did race (${calls} change calls)`);
});

Deno.test("WishStore: the pending index follows generation and appliedGeneration", async () => {
  await using kv = await Deno.openKv(":memory:");
  const store = createWishStore(kv);
  await store.update(USER, () => wish({ generation: 1, nextAttemptAt: 500 }));
  await store.update(
    "@done:example.test",
    () => wish({ userId: "@done:example.test", generation: 2, appliedGeneration: 2 }),
  );
  assert.deepEqual(await store.listPending(), [{
    userId: USER,
    generation: 1,
    nextAttemptAt: 500,
  }]);

  await store.markApplied(USER, 1);
  assert.deepEqual(await store.listPending(), []);
  await store.update(USER, (c) => ({ ...c!, generation: 2, nextAttemptAt: 0 }));
  assert.deepEqual(await store.listPending(), [{ userId: USER, generation: 2, nextAttemptAt: 0 }]);
  assert.equal((await store.listAll()).length, 2, "listAll has applied and pending wishes");
});

Deno.test("WishStore.markApplied(): the latest generation clears the errors; an older one keeps it pending", async () => {
  await using kv = await Deno.openKv(":memory:");
  const store = createWishStore(kv);
  const failing = { attempts: 3, lastError: "HTTP 502", waitingFor: "login", nextAttemptAt: 9 };
  await store.update(USER, () => wish({ generation: 3, ...failing }));

  await store.markApplied(USER, 2);
  const partly = await store.get(USER);
  assert.deepEqual(
    [partly?.appliedGeneration, partly?.attempts, partly?.lastError, partly?.waitingFor],
    [2, 3, "HTTP 502", "login"],
  );
  assert.deepEqual((await store.listPending()).map((p) => p.generation), [3]);

  await store.markApplied(USER, 3);
  const done = await store.get(USER);
  assert.deepEqual(
    [
      done?.appliedGeneration,
      done?.attempts,
      done?.lastError,
      done?.waitingFor,
      done?.pendingSince,
    ],
    [3, 0, null, null, null],
  );
  assert.deepEqual(await store.listPending(), []);

  const stamp = (await kv.get(wishKeys.wish(USER))).versionstamp;
  await store.markApplied(USER, 3);
  await store.markApplied(USER, 1);
  await store.markApplied("@nobody:example.test", 1);
  assert.equal(
    (await kv.get(wishKeys.wish(USER))).versionstamp,
    stamp,
    "stale marks write nothing",
  );
  assert.equal(await store.get("@nobody:example.test"), null);
});

Deno.test("WishStore.markRetry(): counts attempts and schedules; a newer generation is due at once", async () => {
  await using kv = await Deno.openKv(":memory:");
  const store = createWishStore(kv);
  await store.update(USER, () => wish({ generation: 1 }));
  await store.markRetry(USER, 1, { at: 5_000, error: "HTTP 503", waitingFor: null });
  await store.markRetry(USER, 1, { at: 7_000, error: null, waitingFor: "first login" });
  const waiting = await store.get(USER);
  assert.deepEqual(
    [waiting?.attempts, waiting?.nextAttemptAt, waiting?.lastError, waiting?.waitingFor],
    [2, 7_000, null, "first login"],
  );
  assert.deepEqual(await store.listPending(), [{
    userId: USER,
    generation: 1,
    nextAttemptAt: 7_000,
  }]);

  await store.update(USER, (c) => ({ ...c!, generation: 2 }));
  await store.markRetry(USER, 1, { at: 99_000, error: "old attempt failed", waitingFor: null });
  assert.equal((await store.get(USER))?.nextAttemptAt, 0);
  assert.deepEqual(await store.listPending(), [{ userId: USER, generation: 2, nextAttemptAt: 0 }]);

  await store.markApplied(USER, 2);
  const stamp = (await kv.get(wishKeys.wish(USER))).versionstamp;
  await store.markRetry(USER, 2, { at: 1, error: "late", waitingFor: null });
  assert.equal((await kv.get(wishKeys.wish(USER))).versionstamp, stamp, "applied: not retried");
  assert.equal((await store.get(USER))?.lastError, null);
});

Deno.test("WishStore.markDue(): a scheduled pending wish becomes due once; otherwise false", async () => {
  await using kv = await Deno.openKv(":memory:");
  const store = createWishStore(kv);
  assert.equal(await store.markDue(USER), false, "no wish");
  await store.update(USER, () => wish({ nextAttemptAt: 60_000 }));
  assert.equal(await store.markDue(USER), true);
  assert.deepEqual(await store.listPending(), [{ userId: USER, generation: 1, nextAttemptAt: 0 }]);
  assert.equal(await store.markDue(USER), false, "already due");
  await store.markApplied(USER, 1);
  assert.equal(await store.markDue(USER), false, "nothing pending");
  assert.deepEqual(await store.listPending(), []);
});

Deno.test("WishStore: a corrupt wish is reported by get() and update(), never returned or overwritten", async () => {
  await using kv = await Deno.openKv(":memory:");
  const store = createWishStore(kv);
  const other = "@other:example.test";
  await store.update(other, () => wish({ userId: other }));
  const corrupt = { version: 1, userId: USER, generation: "seven" };
  await kv.set(wishKeys.wish(USER), corrupt);
  await kv.set(wishKeys.pending("@broken:example.test"), { generation: "x" });
  const namesTheKey = (err: unknown) =>
    err instanceof CorruptRecordError && err.message.includes(JSON.stringify(["wish", USER]));
  await assert.rejects(() => store.get(USER), namesTheKey);
  let changed = false;
  await assert.rejects(() =>
    store.update(USER, () => {
      changed = true;
      return wish();
    }), namesTheKey);
  assert.equal(changed, false, "the change never saw the corrupt record");
  assert.deepEqual((await kv.get(wishKeys.wish(USER))).value, corrupt, "left for an operator");
  assert.deepEqual((await store.listAll()).map((w) => w.userId), [other]);
  assert.deepEqual((await store.listPending()).map((p) => p.userId), [other]);
});

Deno.test("WishStore: the login watermark round-trips; an invalid one is refused, an unreadable one is null", async () => {
  await using kv = await Deno.openKv(":memory:");
  const store = createWishStore(kv);
  assert.equal(await store.getLoginWatermark(), null);
  const mark = { version: 1 as const, createdAt: 1_700_000_000_000, userIds: ["@a:x", "@b:x"] };
  await store.setLoginWatermark(mark);
  assert.deepEqual(await store.getLoginWatermark(), mark);
  await assert.rejects(() =>
    store.setLoginWatermark({ ...mark, createdAt: "now" as unknown as number })
  );
  await assert.rejects(() => store.setLoginWatermark({ ...mark, version: 2 as 1 }));
  assert.deepEqual(await store.getLoginWatermark(), mark, "refused before writing");
  await kv.set(wishKeys.loginWatermark(), { version: 1, createdAt: 5 });
  assert.equal(await store.getLoginWatermark(), null, "unreadable: start over");
});

/** `kv` with its `list` counted and, while `hold` is set, read in full and then held back. */
function observedKv(kv: Deno.Kv) {
  const seen = { lists: 0, hold: null as Promise<void> | null };
  const proxy = new Proxy(kv, {
    get(target, prop) {
      if (prop !== "list") {
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      }
      return (selector: Deno.KvListSelector) =>
        (async function* () {
          seen.lists++;
          const entries = [];
          for await (const e of target.list(selector)) entries.push(e);
          if (seen.hold !== null) await seen.hold;
          yield* entries;
        })();
    },
  });
  return { kv: proxy, seen };
}

Deno.test("WishStore: the pending index is read from KV once and then kept by the store's own commits", async () => {
  await using real = await Deno.openKv(":memory:");
  const { kv, seen } = observedKv(real);
  const store = createWishStore(kv);
  const other = "@other:example.test";
  await store.update(USER, () => wish());
  for (let i = 0; i < 5; i++) await store.listPending();
  assert.equal(seen.lists, 1, "five looks, one KV read");
  await store.update(other, () => wish({ userId: other, nextAttemptAt: 7 }));
  await store.markApplied(USER, 1);
  await store.markRetry(other, 1, { at: 99, error: "x", waitingFor: null });
  assert.deepEqual(await store.listPending(), [{
    userId: other,
    generation: 1,
    nextAttemptAt: 99,
  }]);
  assert.equal(seen.lists, 1, "the commits kept it");
  assert.deepEqual(
    await createWishStore(real).listPending(),
    await store.listPending(),
    "memory and KV agree",
  );
});

Deno.test("WishStore: an entry written by something else is seen once the index is older than rescanMs", async () => {
  await using kv = await Deno.openKv(":memory:");
  const cached = createWishStore(kv);
  const fresh = createWishStore(kv, { rescanMs: 0 });
  assert.deepEqual(await cached.listPending(), []);
  await createWishStore(kv).update(USER, () => wish());
  assert.deepEqual(await cached.listPending(), [], "within rescanMs: memory");
  assert.deepEqual(await fresh.listPending(), [{ userId: USER, generation: 1, nextAttemptAt: 0 }]);
});

Deno.test("WishStore: a commit made while the index is being read wins over what the read saw", async () => {
  await using real = await Deno.openKv(":memory:");
  const { kv, seen } = observedKv(real);
  const store = createWishStore(kv, { rescanMs: 0 });
  const other = "@other:example.test";
  await store.update(USER, () => wish());
  let release = () => {};
  seen.hold = new Promise((r) => release = r);
  const reading = store.listPending();
  await new Promise((r) => setTimeout(r, 20)); // the read has its entries and is held
  await store.markApplied(USER, 1);
  await store.update(other, () => wish({ userId: other }));
  release();
  assert.deepEqual(await reading, [{ userId: other, generation: 1, nextAttemptAt: 0 }]);
  seen.hold = null;
  assert.deepEqual(await store.listPending(), await reading, "and KV says the same");
});
