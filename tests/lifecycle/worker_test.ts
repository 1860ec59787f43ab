/**
 * The lifecycle worker against the fault-injecting stand-in: applying and marking wishes,
 * Synapse's `retry_after_ms`, one probe per interval during an outage, a 401, one failure among many,
 * first logins at constant cost, and a clean stop.
 */
import assert from "node:assert/strict";
import { createDurableLifecycle } from "../../src/lifecycle/durable.ts";
import type { LifecycleAction } from "../../src/lifecycle/lifecycle.ts";
import { WAITING_FOR_LOGIN } from "../../src/lifecycle/login_watch.ts";
import { createWorker, type WorkerBot } from "../../src/lifecycle/worker.ts";
import { createMemoryLogger } from "../../src/log/logger.ts";
import type { RoomIds } from "../../src/matrix/deployment.ts";
import { createPowerLevelWriter } from "../../src/rooms/power_levels.ts";
import { type CallOptions, createSynapseHttp } from "../../src/synapse/http.ts";
import { createWishStore, type WishStore } from "../../src/store/wishes.ts";
import { type FakeSynapse, startFakeSynapse } from "../support/fake_synapse.ts";
import { waitFor } from "../support/wait.ts";

const PUBLIC = ["space", "general", "helpdesk", "offtopic"] as const;
/** A person's own look-up (converge's first call), not the account list. */
const USER_LOOKUP = /^\/_synapse\/admin\/v2\/users\/[^/]+$/;
const USER_LIST = /^\/_synapse\/admin\/v2\/users$/;

interface Options {
  readonly concurrency?: number;
  readonly maxBackoffMs?: number;
  readonly loginPollMs?: number;
  /** Where the bot's calls go. @default the stand-in */
  readonly baseUrl?: string;
}

/**
 * A worker over the stand-in: a bot, the deployment's rooms, an in-memory KV, and every call the
 * bot makes recorded with its start time. `start()` runs the worker; disposal stops it and waits.
 */
async function setup(fake: FakeSynapse, o: Options = {}) {
  const botUser = fake.addUser("bot", { admin: true });
  const rooms: RoomIds = {
    space: fake.addRoom(botUser.userId),
    general: fake.addRoom(botUser.userId),
    helpdesk: fake.addRoom(botUser.userId),
    offtopic: fake.addRoom(botUser.userId),
    admin: fake.addRoom(botUser.userId),
  };
  const kv = await Deno.openKv(":memory:");
  const store = createWishStore(kv);
  const http = createSynapseHttp({ baseUrl: o.baseUrl ?? fake.url, timeoutMs: 2000 });
  const caller = http.as(botUser.token);
  const calls: Array<{ method: string; path: string; at: number }> = [];
  const bot: WorkerBot = {
    call<T>(options: CallOptions<T>): Promise<T> {
      calls.push({ method: options.method, path: options.path, at: performance.now() });
      return caller.call(options);
    },
    current: () => ({ rooms }),
    whenReady: () => Promise.resolve({ rooms }),
  };
  const log = createMemoryLogger();
  const worker = createWorker({
    store,
    bot,
    levels: createPowerLevelWriter(bot),
    log,
    concurrency: o.concurrency ?? 16,
    maxBackoffMs: o.maxBackoffMs ?? 50,
    loginPollMs: o.loginPollMs ?? 50,
  });
  const lifecycle = createDurableLifecycle({
    store,
    worker,
    log,
    bot: { current: () => ({}), status: () => ({ phase: "ready" }) },
  });
  const stop = new AbortController();
  let running: Promise<void> | null = null;
  return {
    bot: botUser,
    rooms,
    store,
    worker,
    log,
    calls,
    /** The bot's calls matching `method` and `path` (paths URL-encoded, as sent). */
    called: (method: string, path: RegExp) =>
      calls.filter((c) => c.method === method && path.test(c.path)),
    async send(action: Exclude<LifecycleAction, "updated">, userId: string) {
      const outcome = await lifecycle.submit({
        action,
        userId,
        callsign: userId.slice(1, userId.indexOf(":")),
        uuid: crypto.randomUUID(),
        receivedAt: new Date(),
      });
      assert.equal(outcome.kind, "accepted", JSON.stringify(outcome));
      return (await store.get(userId))!.generation;
    },
    start() {
      running = worker.run(stop.signal);
    },
    /** Aborts the run and waits for `run()` to return. */
    async stop() {
      stop.abort();
      await running;
    },
    async [Symbol.asyncDispose]() {
      await this.stop();
      kv.close();
    },
  };
}

const applied = (store: WishStore, userId: string) => async () => {
  const r = await store.get(userId);
  return r !== null && r.appliedGeneration === r.generation ? r : null;
};

function joined(fake: FakeSynapse, rooms: RoomIds, userId: string): string[] {
  return Object.entries(rooms).filter(([, id]) => fake.members(id).includes(userId))
    .map(([key]) => key).sort();
}

Deno.test("worker: applies a pending wish and marks it applied", async () => {
  await using fake = startFakeSynapse();
  await using w = await setup(fake);
  const p = fake.addUser("alice").userId;
  await w.send("created", p);
  await w.send("promoted", p);
  assert.equal((await w.store.listPending()).length, 1);
  w.start();
  const record = await waitFor("the wish applied", applied(w.store, p), { timeoutMs: 2000 });
  assert.equal(record.generation, 2);
  assert.deepEqual(
    [record.attempts, record.lastError, record.waitingFor, record.pendingSince],
    [0, null, null, null],
  );
  assert.deepEqual(await w.store.listPending(), []);
  assert.deepEqual(joined(fake, w.rooms, p), ["admin", ...PUBLIC].sort());
  const pl = fake.rooms.get(w.rooms.general)!.state.get("m.room.power_levels\0")!.content;
  assert.equal((pl.users as Record<string, number>)[p], 100);
});

Deno.test("worker: a 429's retry_after_ms sets the next attempt, above the backoff cap", async () => {
  await using fake = startFakeSynapse();
  await using w = await setup(fake, { maxBackoffMs: 50 });
  const p = fake.addUser("alice").userId;
  await w.send("created", p);
  fake.fault({ method: "GET", path: USER_LOOKUP, fault: { kind: "limit", retryAfterMs: 3000 } });
  const before = Date.now();
  w.start();
  const record = await waitFor("the failed attempt recorded", async () => {
    const r = await w.store.get(p);
    return r?.lastError === null ? null : r;
  }, { timeoutMs: 2000 });
  assert.match(record!.lastError!, /429 M_LIMIT_EXCEEDED/);
  assert.ok(
    record!.nextAttemptAt >= before + 3000,
    `next attempt ${record!.nextAttemptAt - before} ms after the start, not after 3000`,
  );
  assert.ok(record!.nextAttemptAt <= Date.now() + 3000);
  assert.equal((await w.store.listPending())[0]?.nextAttemptAt, record!.nextAttemptAt);
  assert.equal(w.called("GET", USER_LOOKUP).length, 1, "no attempt before the time");
});

Deno.test("worker: during a 5xx outage with many people pending, one probe per interval", async () => {
  await using fake = startFakeSynapse();
  const interval = 60, concurrency = 4, probes = 5;
  await using w = await setup(fake, { maxBackoffMs: interval, concurrency });
  const people = Array.from({ length: 30 }, (_, i) => fake.addUser(`p${i}`).userId);
  for (const p of people) await w.send("created", p);
  // Every person's look-up fails: the first round (up to `concurrency`), then `probes` probes.
  const failing = concurrency + probes;
  fake.fault({
    method: "GET",
    path: USER_LOOKUP,
    times: failing,
    fault: { kind: "error", status: 502 },
  });
  w.start();
  await waitFor("Synapse back and everyone applied", async () => {
    for (const p of people) if (await applied(w.store, p)() === null) return false;
    return true;
  }, { timeoutMs: 3000, detail: () => fake.pendingFaults });
  const lookups = w.called("GET", USER_LOOKUP);
  // The failed ones are the first `failing` look-ups. The first round starts `concurrency`
  // attempts before any has failed; every later one is a probe, spaced by the interval.
  const failed = lookups.slice(0, failing);
  const spaced = failed.slice(concurrency - 1);
  assert.equal(spaced.length, probes + 1);
  for (let i = 1; i < spaced.length; i++) {
    const gap = spaced[i]!.at - spaced[i - 1]!.at;
    assert.ok(gap >= interval * 0.8, `probe ${i} came ${gap.toFixed(0)} ms after the last`);
  }
  // Naively every person retries every interval: 30 × probes look-ups, not 1 × probes.
  assert.equal(lookups.length, failing + people.length, "then one look-up per person");
  assert.equal(w.log.lines.filter((l) => l.includes("Synapse is unavailable")).length, 1);
});

Deno.test("worker: with Synapse unreachable, attempts are one probe per interval", async () => {
  await using fake = startFakeSynapse();
  // A port that was just listening (so not the live stand-in's), now closed: refused.
  const gone = startFakeSynapse();
  const unreachable = gone.url;
  await gone[Symbol.asyncDispose]();
  const interval = 60;
  await using w = await setup(fake, {
    maxBackoffMs: interval,
    concurrency: 4,
    baseUrl: unreachable,
  });
  const people = Array.from({ length: 25 }, (_, i) => `@p${i}:fake.test`);
  for (const p of people) await w.send("created", p);
  const started = performance.now();
  w.start();
  await waitFor("four probes", () => w.called("GET", USER_LOOKUP).length >= 4 + 4, {
    timeoutMs: 3000,
  });
  const elapsed = performance.now() - started;
  const lookups = w.called("GET", USER_LOOKUP).length;
  // The first round (up to 4), then at most one per interval; naively 25 per interval.
  assert.ok(lookups <= 4 + Math.ceil(elapsed / interval) + 1, `${lookups} in ${elapsed} ms`);
  const record = await w.store.get(people[0]!);
  assert.match(record?.lastError ?? "", /M_CONNECTION_FAILED/);
  assert.equal((await w.store.listPending()).length, people.length, "nothing dropped");
});

// Regression: looking ahead (priming, as it was then) once looked up every due ever-promoted
// person (16 at a time) before the attempts, whatever Synapse answered: N pending admins cost N
// look-ups in the first round of an outage, and a hanging Synapse blocked the loop (and an abort)
// for N/16 call timeouts (fixed in 29957ca). A round's first look now goes alone.
Deno.test({
  name: "worker: an outage at start costs no per-person look-ups for pending admins",
  async fn() {
    await using fake = startFakeSynapse();
    const concurrency = 4;
    await using w = await setup(fake, { maxBackoffMs: 200, concurrency });
    const people = Array.from({ length: 40 }, (_, i) => fake.addUser(`p${i}`).userId);
    for (const p of people) await w.send("promoted", p);
    fake.fault({
      method: "GET",
      path: USER_LOOKUP,
      times: 1000,
      fault: { kind: "error", status: 502 },
    });
    w.start();
    // The round's first look goes alone: once it has failed, the round is over.
    await waitFor("a failed attempt", async () => {
      const status = await w.worker.pending();
      return status.users.some((u) => u.lastError !== null);
    }, { timeoutMs: 2000 });
    assert.ok(
      w.called("GET", USER_LOOKUP).length <= 2, // the first look, at most one probe since
      `${w.called("GET", USER_LOOKUP).length} look-ups in the first round of an outage`,
    );
  },
});

Deno.test("worker: a 401 mid-run is recorded and retried, and the worker keeps going", async () => {
  await using fake = startFakeSynapse();
  await using w = await setup(fake, { maxBackoffMs: 30 });
  const p = fake.addUser("alice").userId;
  await w.send("created", p);
  fake.fault({ method: "POST", path: /\/join\//, fault: { kind: "unknownToken" } });
  w.start();
  await waitFor("the retry applied", applied(w.store, p), { timeoutMs: 2000 });
  const failed = w.log.lines.filter((l) => l.includes("attempt failed; will retry"));
  assert.equal(failed.length, 1);
  assert.match(failed[0]!, /M_UNKNOWN_TOKEN/);
  assert.deepEqual(joined(fake, w.rooms, p), [...PUBLIC].sort());
  // Still running: new work is picked up.
  const q = fake.addUser("bob").userId;
  await w.send("created", q);
  await waitFor("the next wish applied", applied(w.store, q), { timeoutMs: 2000 });
});

Deno.test("worker: one person's failed attempt holds back no one, and is retried after its backoff", async () => {
  await using fake = startFakeSynapse();
  await using w = await setup(fake, { maxBackoffMs: 200 });
  const ok = fake.addUser("alice").userId, bad = fake.addUser("bob").userId;
  await w.send("created", ok);
  await w.send("created", bad);
  fake.fault({
    method: "GET",
    path: new RegExp(`/users/${encodeURIComponent(bad)}$`),
    fault: { kind: "error", status: 400, errcode: "M_UNKNOWN" },
  });
  w.start();
  const failed = await waitFor("bob's failed attempt recorded", async () => {
    const r = await w.store.get(bad);
    return r?.lastError === null ? null : r;
  }, { timeoutMs: 2000 });
  assert.match(failed!.lastError!, /400 M_UNKNOWN/);
  assert.ok(await waitFor("alice applied", applied(w.store, ok), { timeoutMs: 2000 }));
  // The retry (200 ms later) succeeds.
  const retried = await waitFor("bob applied", applied(w.store, bad), { timeoutMs: 2000 });
  assert.equal(retried.lastError, null);
  assert.deepEqual(joined(fake, w.rooms, bad), [...PUBLIC].sort());
});

/**
 * `n` people waiting for a first login: once every one has been looked at, the worker's Synapse
 * cost over a few polls, and how long the last one takes to be joined once the account appears.
 */
async function waitingForLogin(n: number) {
  await using fake = startFakeSynapse();
  const loginPollMs = 40;
  await using w = await setup(fake, { loginPollMs });
  const people = Array.from({ length: n }, (_, i) => `@p${i}:fake.test`);
  for (const p of people) await w.send("created", p);
  w.start();
  await waitFor("everyone waiting for a login", async () => {
    const status = await w.worker.pending();
    return status.users.every((u) => u.waitingFor === WAITING_FOR_LOGIN);
  }, { timeoutMs: 3000 });
  const lookupsAtFirst = w.called("GET", USER_LOOKUP).length;
  const listsBefore = w.called("GET", USER_LIST).length;
  const since = performance.now();
  await waitFor(
    "five more looks at the account list",
    () => w.called("GET", USER_LIST).length >= listsBefore + 5,
    { timeoutMs: 3000 },
  );
  const elapsed = performance.now() - since;
  const lists = w.called("GET", USER_LIST).length - listsBefore;
  const lookupsWhileWaiting = w.called("GET", USER_LOOKUP).length - lookupsAtFirst;
  const otherCalls = w.calls.length - w.called("GET", USER_LOOKUP).length -
    w.called("GET", USER_LIST).length;
  // The last person logs in.
  const last = people[n - 1]!;
  const appearedAt = performance.now();
  fake.addUser(last.slice(1, last.indexOf(":")));
  await waitFor("the new account joined", applied(w.store, last), { timeoutMs: 2000 });
  return {
    lookupsAtFirst,
    lists,
    elapsed,
    lookupsWhileWaiting,
    otherCalls,
    joinedAfterMs: performance.now() - appearedAt,
    lookupsOfLast:
      w.called("GET", USER_LOOKUP).filter((c) => c.path.endsWith(encodeURIComponent(last))).length,
    joined: joined(fake, w.rooms, last),
    stillWaiting: (await w.store.listPending()).length,
    loginPollMs,
  };
}

Deno.test("worker: people waiting for a first login cost one list request per poll, 1 or 50", async () => {
  for (const n of [1, 50]) {
    const r = await waitingForLogin(n);
    const what = `${n} waiting: ${JSON.stringify(r)}`;
    assert.equal(r.lookupsAtFirst, n, `one look each at first; ${what}`);
    assert.equal(r.lookupsWhileWaiting, 0, `no per-person look-up afterwards; ${what}`);
    assert.equal(r.otherCalls, 0, `nothing else asked; ${what}`);
    assert.ok(r.lists <= r.elapsed / r.loginPollMs + 2, `one list per poll; ${what}`);
    // Joined within a few polls (the safety net alone would take 10 minutes).
    assert.ok(r.joinedAfterMs < 1000, `joined promptly; ${what}`);
    assert.equal(r.lookupsOfLast, 2, `looked at again only once it appeared; ${what}`);
    assert.deepEqual(r.joined, [...PUBLIC].sort(), what);
    assert.equal(r.stillWaiting, n - 1, what);
  }
});

// Regression: an abort that arrived while a round awaited KV, the login look or priming still
// started that round's attempts, and run() returned only once they were done (fixed in 29957ca).
Deno.test({
  name: "worker: an abort during the look for new accounts starts no attempt",
  async fn() {
    await using fake = startFakeSynapse();
    await using w = await setup(fake);
    const p = fake.addUser("alice").userId;
    await w.send("created", p);
    fake.fault({ method: "GET", path: USER_LIST, fault: { kind: "delay", ms: 100 } });
    w.start();
    await waitFor("the look for new accounts", () => fake.count("GET", USER_LIST) === 1);
    await w.stop();
    assert.equal(w.called("GET", USER_LOOKUP).length, 0, "an attempt started after the abort");
  },
});

Deno.test("worker: a wish recorded while a round runs starts at once, not at the next poll", async () => {
  await using fake = startFakeSynapse();
  // Looks for new accounts only at the first round: later sleeps are the 1 s poll.
  await using w = await setup(fake, { loginPollMs: 60_000 });
  const slow = fake.addUser("slow").userId, quick = fake.addUser("quick").userId;
  await w.send("created", slow);
  // The first round looks at the account list for 300 ms; slow's own attempt takes 2 s, so its
  // end wakes nobody in time.
  fake.fault({ method: "GET", path: USER_LIST, fault: { kind: "delay", ms: 300 } });
  fake.fault({
    method: "GET",
    path: new RegExp(`/users/${encodeURIComponent(slow)}$`),
    fault: { kind: "delay", ms: 2000 },
  });
  w.start();
  await waitFor("the first round's look", () => fake.count("GET", USER_LIST) === 1);
  const sent = performance.now();
  await w.send("created", quick); // wakes the worker while its round is still running
  await waitFor("quick applied", applied(w.store, quick), { timeoutMs: 3000 });
  const took = performance.now() - sent;
  assert.ok(took < 800, `applied ${took.toFixed(0)} ms after the callback (the poll is 1000 ms)`);
});

Deno.test("worker: run() returns soon after abort, with the attempt in flight finished", async () => {
  await using fake = startFakeSynapse();
  await using w = await setup(fake);
  const p = fake.addUser("alice").userId, later = "@later:fake.test";
  await w.send("created", p);
  await w.send("created", later); // waits for a login
  fake.fault({ method: "POST", path: /\/join\//, fault: { kind: "delay", ms: 150 } });
  w.start();
  await waitFor("the slow join to start", () => fake.count("POST", /\/join\//) === 1);
  const stopping = performance.now();
  await w.stop();
  const took = performance.now() - stopping;
  assert.ok(took < 900, `run() took ${took} ms after abort (its poll is 1000 ms)`);
  // The attempt in flight ran to its end before run() returned: joined and marked applied.
  assert.ok(await applied(w.store, p)(), "marked applied");
  assert.deepEqual(joined(fake, w.rooms, p), [...PUBLIC].sort());
});

Deno.test("worker: a storm of promotions of members: one look-up and one join per person, levels written once per room", async () => {
  await using fake = startFakeSynapse();
  await using w = await setup(fake, { concurrency: 8 });
  const people = Array.from({ length: 24 }, (_, i) => fake.addUser(`p${i}`).userId);
  for (const p of people) await w.send("created", p);
  const drained = async () => (await w.store.listPending()).length === 0;
  w.start();
  await waitFor("the members joined", drained, { timeoutMs: 10_000 });
  const before = w.calls.length;
  await Promise.all(people.map((p) => w.send("promoted", p))); // RM's callbacks, all at once
  await waitFor("the promotions applied", drained, { timeoutMs: 10_000 });
  const storm = w.calls.slice(before);
  const count = (method: string, path: RegExp) =>
    storm.filter((c) => c.method === method && path.test(c.path)).length;
  for (const p of people) {
    assert.deepEqual(joined(fake, w.rooms, p), ["admin", ...PUBLIC].sort(), p);
    for (const k of PUBLIC) {
      const pl = fake.rooms.get(w.rooms[k])!.state.get("m.room.power_levels\0")!.content;
      assert.equal((pl.users as Record<string, number>)[p], 100, `${p} in ${k}`);
    }
  }
  assert.equal(
    count("GET", USER_LOOKUP),
    people.length,
    "one look-up each (the round's, ahead of the turns)",
  );
  assert.equal(count("POST", /\/join\//), people.length, "only the admin room joined");
  assert.equal(count("GET", /\/members$/), 0, "no refused join to check");
  // Uncoalesced it would be 96 (one per person and room); how many share a write depends on timing.
  const writes = count("PUT", /power_levels/);
  assert.ok(
    writes >= 4 && writes <= people.length,
    `${writes} power-level writes for 24 promotions`,
  );
});
