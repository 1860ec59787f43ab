import assert from "node:assert/strict";
import { CorruptRecordError, createStore, keys } from "../../src/store/store.ts";

Deno.test("a lease is exclusive until it expires or is released", async () => {
  await using kv = await Deno.openKv(":memory:");
  let now = 1_000_000;
  const store = createStore(kv, () => now);
  assert.equal(await store.acquireLease("boot", "a", 1000), true);
  assert.equal(await store.acquireLease("boot", "b", 1000), false);
  assert.equal(await store.acquireLease("boot", "a", 1000), true, "the holder renews");
  now += 1001;
  assert.equal(await store.acquireLease("boot", "b", 1000), true, "an expired lease is taken over");
  await store.releaseLease("boot", "a"); // not a's any more: nothing happens
  assert.equal(await store.acquireLease("boot", "a", 1000), false);
  await store.releaseLease("boot", "b");
  assert.equal(await store.acquireLease("boot", "a", 1000), true);
});

Deno.test("of two racing lease takers exactly one wins", async () => {
  await using kv = await Deno.openKv(":memory:");
  const store = createStore(kv);
  const results = await Promise.all(
    Array.from({ length: 10 }, (_, i) => store.acquireLease("boot", `h${i}`, 10_000)),
  );
  assert.equal(results.filter(Boolean).length, 1);
});

Deno.test("a corrupt KV record is reported by key, never returned", async () => {
  await using kv = await Deno.openKv(":memory:");
  await kv.set(keys.botToken(), { version: 1, userId: "@b:x", accessToken: 42 });
  const store = createStore(kv);
  await assert.rejects(() => store.getBotToken(), (err: Error) => {
    assert.ok(err instanceof CorruptRecordError);
    assert.match(err.message, /\["bot","token"\]/);
    return true;
  });
});

Deno.test("records round-trip and invalid records are refused before writing", async () => {
  await using kv = await Deno.openKv(":memory:");
  const store = createStore(kv);
  const record = {
    version: 1 as const,
    userId: "@bot:x",
    accessToken: "t",
    obtainedAt: new Date().toISOString(),
    source: "registered" as const,
  };
  await store.setBotToken(record);
  assert.deepEqual(await store.getBotToken(), record);
  await assert.rejects(() => store.setBotToken({ ...record, accessToken: "" }));
  assert.deepEqual(await store.getBotToken(), record);
});
