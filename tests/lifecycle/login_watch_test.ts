/** The look for new Matrix accounts against the stand-in: pages read per look. */
import assert from "node:assert/strict";
import { createLoginWatch, WAITING_FOR_LOGIN } from "../../src/lifecycle/login_watch.ts";
import { createMemoryLogger } from "../../src/log/logger.ts";
import { createSynapseHttp } from "../../src/synapse/http.ts";
import { createWishStore } from "../../src/store/wishes.ts";
import { startFakeSynapse } from "../support/fake_synapse.ts";
import { wishRecord } from "../support/wishes.ts";

/** A wish of `userId` waiting for the first login. */
const waiting = (userId: string) =>
  wishRecord({
    userId,
    attempts: 1,
    nextAttemptAt: Date.now() + 600_000,
    waitingFor: WAITING_FOR_LOGIN,
  });

Deno.test("login watch: more than a page of accounts from one past second costs one page per look; a new account is still found", async () => {
  await using fake = startFakeSynapse();
  await using kv = await Deno.openKv(":memory:");
  const second = Math.floor(Date.now() / 1000) * 1000 - 60_000;
  const bot = fake.addUser("bot", { admin: true, creationTs: second - 1000 });
  for (let i = 0; i < 150; i++) fake.addUser(`bulk${i}`, { creationTs: second });
  const store = createWishStore(kv);
  const watch = createLoginWatch({
    synapse: createSynapseHttp({ baseUrl: fake.url, timeoutMs: 2000 }).as(bot.token),
    store,
    log: createMemoryLogger(),
  });
  const lists = () => fake.count("GET", /^\/_synapse\/admin\/v2\/users$/);
  await watch.poll(); // the first look reads the newest page only
  await watch.poll(); // the rest of that second
  const before = lists();
  for (let i = 0; i < 3; i++) assert.equal(await watch.poll(), 0);
  assert.equal(lists() - before, 3, "one page per look");

  const late = "@late:fake.test";
  await store.update(late, () => waiting(late));
  fake.addUser("late");
  assert.equal(await watch.poll(), 1, "the new account's wish is due");
  assert.equal((await store.get(late))?.nextAttemptAt, 0);
});
