/**
 * The per-room power-level serialiser against the fault-injecting stand-in: coalescing, ordering
 * within a batch, removals, no-op batches, read-back and write failures, and `exclusive()`.
 */
import assert from "node:assert/strict";
import { createPowerLevelWriter } from "../../src/rooms/power_levels.ts";
import { createSynapseHttp, SynapseError } from "../../src/synapse/http.ts";
import { type FakeSynapse, startFakeSynapse } from "../support/fake_synapse.ts";
import { waitFor } from "../support/wait.ts";
import { createRoomLocks } from "../../src/rooms/locks.ts";

const PL = "m.room.power_levels";

/** The stand-in with a server-admin bot, a caller as the bot and `n` rooms the bot created. */
function setup(fake: FakeSynapse, n = 1) {
  const bot = fake.addUser("bot", { admin: true });
  const synapse = createSynapseHttp({ baseUrl: fake.url, timeoutMs: 2000 }).as(bot.token);
  const rooms = Array.from({ length: n }, () => fake.addRoom(bot.userId));
  return { bot, synapse, rooms };
}

/** The room's `users` levels as the stand-in holds them. */
function usersOf(fake: FakeSynapse, roomId: string): Record<string, number> {
  const content = fake.rooms.get(roomId)?.state.get(`${PL}\0`)?.content;
  return { ...(content?.users as Record<string, number>) };
}

/** Replaces the room's power levels in the stand-in (a hand edit, no request recorded). */
function editUsers(fake: FakeSynapse, roomId: string, users: Record<string, number>): void {
  const room = fake.rooms.get(roomId)!;
  const old = room.state.get(`${PL}\0`)!;
  room.state.set(`${PL}\0`, { ...old, content: { ...old.content, users } });
}

/** Requests with `method` for the room's power levels (client API, the serialiser's path). */
function plRequests(fake: FakeSynapse, method: string, roomId: string): number {
  const path = `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/state/${PL}/`;
  return fake.requests.filter((r) => r.method === method && r.path === path).length;
}

const person = (i: number) => `@p${i}:fake.test`;

Deno.test("power levels: writes asked for together share one write per room, and all resolve", async () => {
  await using fake = startFakeSynapse();
  const { bot, synapse, rooms: [a, b] } = setup(fake, 2);
  const levels = createPowerLevelWriter(synapse);
  const people = Array.from({ length: 20 }, (_, i) => person(i));
  const settled = await Promise.allSettled([
    ...people.map((userId) => levels.write(a!, [{ userId, level: 100 }])),
    levels.write(b!, [{ userId: person(0), level: 50 }]),
  ]);
  assert.deepEqual(settled.map((s) => s.status), settled.map(() => "fulfilled"));
  assert.equal(plRequests(fake, "PUT", a!), 1, "one write for 20 changes");
  assert.equal(plRequests(fake, "GET", a!), 2, "read fresh, read back");
  assert.equal(plRequests(fake, "PUT", b!), 1, "the other room has its own write");
  const users = usersOf(fake, a!);
  for (const p of people) assert.equal(users[p], 100, p);
  assert.equal(users[bot.userId], 100, "other entries kept");
  assert.deepEqual(usersOf(fake, b!), { [bot.userId]: 100, [person(0)]: 50 });
});

Deno.test("power levels: writes asked for while a room's write runs go together in its next one", async () => {
  await using fake = startFakeSynapse();
  const { synapse, rooms: [room] } = setup(fake);
  const levels = createPowerLevelWriter(synapse);
  fake.fault({ method: "PUT", path: /power_levels/, fault: { kind: "delay", ms: 100 } });
  const first = levels.write(room!, [{ userId: person(0), level: 100 }]);
  await waitFor("the first write under way", () => plRequests(fake, "PUT", room!) === 1);
  const later = [1, 2, 3].map((i) => levels.write(room!, [{ userId: person(i), level: 50 }]));
  await Promise.all([first, ...later]);
  assert.equal(plRequests(fake, "PUT", room!), 2, "the three later changes share one write");
  const users = usersOf(fake, room!);
  assert.deepEqual([0, 1, 2, 3].map((i) => users[person(i)]), [100, 50, 50, 50]);
});

Deno.test("power levels: within a batch the later change for a user wins; null removes the entry", async () => {
  await using fake = startFakeSynapse();
  const { bot, synapse, rooms: [room] } = setup(fake);
  editUsers(fake, room!, { [bot.userId]: 100, [person(9)]: 50, [person(8)]: 75 });
  const levels = createPowerLevelWriter(synapse);
  await Promise.all([
    levels.write(room!, [{ userId: person(1), level: 50 }]),
    levels.write(room!, [{ userId: person(1), level: 100 }]),
    levels.write(room!, [{ userId: person(2), level: 100 }]),
    levels.write(room!, [{ userId: person(2), level: null }]),
    levels.write(room!, [{ userId: person(9), level: null }]),
    levels.write(room!, [{ userId: person(3), level: null }]),
    levels.write(room!, [{ userId: person(3), level: 20 }]),
  ]);
  assert.equal(plRequests(fake, "PUT", room!), 1);
  assert.deepEqual(usersOf(fake, room!), {
    [bot.userId]: 100,
    [person(1)]: 100,
    [person(3)]: 20,
    [person(8)]: 75,
  });
  // A later batch sees the first one's result: removing what is there writes again.
  await levels.write(room!, [{ userId: person(1), level: null }]);
  assert.equal(plRequests(fake, "PUT", room!), 2);
  assert.equal(person(1) in usersOf(fake, room!), false);
});

Deno.test("power levels: a batch that changes nothing writes nothing and still resolves", async () => {
  await using fake = startFakeSynapse();
  const { bot, synapse, rooms: [room] } = setup(fake);
  const levels = createPowerLevelWriter(synapse);
  await Promise.all([
    levels.write(room!, [{ userId: bot.userId, level: 100 }]), // already so
    levels.write(room!, [{ userId: person(1), level: null }]), // no entry to remove
  ]);
  assert.equal(plRequests(fake, "PUT", room!), 0);
  assert.equal(plRequests(fake, "GET", room!), 1, "read fresh, nothing to read back");
  assert.deepEqual(usersOf(fake, room!), { [bot.userId]: 100 });
});

Deno.test("power levels: a read-back without the change rejects every caller of the batch; the next batch works", async () => {
  await using fake = startFakeSynapse();
  const { bot, synapse, rooms: [room] } = setup(fake);
  const levels = createPowerLevelWriter(synapse);
  const get = { method: "GET", path: /\/state\/m\.room\.power_levels\/$/ } as const;
  // The first GET (read fresh) passes through; the second (read back) misses the change.
  fake.fault({ ...get, fault: { kind: "delay", ms: 0 } });
  fake.fault({ ...get, fault: { kind: "json", json: { users: { [bot.userId]: 100 } } } });
  const batch = [1, 2, 3].map((i) => levels.write(room!, [{ userId: person(i), level: 100 }]));
  const settled = await Promise.allSettled(batch);
  for (const s of settled) {
    assert.equal(s.status, "rejected");
    assert.match(String((s as PromiseRejectedResult).reason), /did not stick/);
  }
  assert.equal(fake.pendingFaults, 0);
  assert.equal(plRequests(fake, "PUT", room!), 1);
  await levels.write(room!, [{ userId: person(4), level: 50 }]);
  assert.equal(plRequests(fake, "PUT", room!), 2, "the next batch wrote");
  assert.equal(usersOf(fake, room!)[person(4)], 50);
});

// Regression: the read-back once checked only the entries left in `users`, so a removal that did
// not stick resolved its caller (fixed in 29957ca).
Deno.test({
  name: "power levels: a read-back that still shows a removed user rejects the removal",
  async fn() {
    await using fake = startFakeSynapse();
    const { bot, synapse, rooms: [room] } = setup(fake);
    editUsers(fake, room!, { [bot.userId]: 100, [person(1)]: 100 });
    const levels = createPowerLevelWriter(synapse);
    const get = { method: "GET", path: /\/state\/m\.room\.power_levels\/$/ } as const;
    fake.fault({ ...get, fault: { kind: "delay", ms: 0 } });
    fake.fault({
      ...get,
      fault: { kind: "json", json: { users: { [bot.userId]: 100, [person(1)]: 100 } } },
    });
    await assert.rejects(
      () => levels.write(room!, [{ userId: person(1), level: null }]),
      /did not stick/,
    );
  },
});

Deno.test("power levels: a 429 or 5xx on the write rejects the batch's callers with the SynapseError", async () => {
  await using fake = startFakeSynapse();
  const { bot, synapse, rooms: [room] } = setup(fake);
  const levels = createPowerLevelWriter(synapse);
  const put = { method: "PUT", path: /\/state\/m\.room\.power_levels\/$/ } as const;
  fake.fault({ ...put, fault: { kind: "limit", retryAfterMs: 1234 } });
  fake.fault({ ...put, fault: { kind: "error", status: 502 } });
  const limited = await Promise.allSettled(
    [1, 2].map((i) => levels.write(room!, [{ userId: person(i), level: 100 }])),
  );
  for (const s of limited) {
    const err = (s as PromiseRejectedResult).reason;
    assert.ok(err instanceof SynapseError, String(err));
    assert.deepEqual([err.status, err.errcode, err.retryAfterMs], [429, "M_LIMIT_EXCEEDED", 1234]);
  }
  await assert.rejects(
    () => levels.write(room!, [{ userId: person(3), level: 100 }]),
    (err) => err instanceof SynapseError && err.status === 502 && err.errcode === "HTTP_502",
  );
  assert.deepEqual(usersOf(fake, room!), { [bot.userId]: 100 }, "nothing was written");
  assert.equal(plRequests(fake, "PUT", room!), 2, "one refused write per batch");
  await levels.write(room!, [{ userId: person(4), level: 100 }]);
  assert.equal(usersOf(fake, room!)[person(4)], 100, "the next batch works");
});

Deno.test("power levels: a room lock holds back a flush of the same room, not of another", async () => {
  await using fake = startFakeSynapse();
  const { synapse, rooms: [a, b] } = setup(fake, 2);
  const locks = createRoomLocks();
  const levels = createPowerLevelWriter(synapse, locks);
  const gate = Promise.withResolvers<void>();
  let inside = false;
  // Like the drift pass: a read-modify-write of room a's power levels under exclusive().
  const held = locks.exclusive(a!, async () => {
    inside = true;
    await gate.promise;
    const room = fake.rooms.get(a!)!;
    const old = room.state.get(`${PL}\0`)!;
    room.state.set(`${PL}\0`, { ...old, content: { ...old.content, ban: 75 } });
    return "drift done";
  });
  await waitFor("exclusive() to start", () => inside);
  let aSettled = false;
  const setA = levels.write(a!, [{ userId: person(1), level: 100 }]).finally(() => aSettled = true);
  // Two whole flushes of room b finish while room a's is held.
  await levels.write(b!, [{ userId: person(1), level: 100 }]);
  await levels.write(b!, [{ userId: person(2), level: 100 }]);
  assert.equal(plRequests(fake, "PUT", b!), 2);
  assert.equal(aSettled, false, "room a's change waits for exclusive()");
  assert.equal(plRequests(fake, "GET", a!), 0, "room a's flush has not even read");
  gate.resolve();
  assert.equal(await held, "drift done");
  await setA;
  const content = fake.rooms.get(a!)!.state.get(`${PL}\0`)!.content;
  assert.equal(content.ban, 75, "the flush read what exclusive() wrote: no lost update");
  assert.equal((content.users as Record<string, number>)[person(1)], 100);
});

Deno.test("power levels: a room lock waits for the flush in progress", async () => {
  await using fake = startFakeSynapse();
  const { synapse, rooms: [room] } = setup(fake);
  const locks = createRoomLocks();
  const levels = createPowerLevelWriter(synapse, locks);
  fake.fault({
    method: "PUT",
    path: /\/state\/m\.room\.power_levels\/$/,
    fault: { kind: "delay", ms: 150 },
  });
  const set = levels.write(room!, [{ userId: person(1), level: 100 }]);
  await waitFor("the write to reach Synapse", () => plRequests(fake, "PUT", room!) === 1);
  // What exclusive() sees when it runs: the flush's write and read-back already done.
  const seen = await locks.exclusive(
    room!,
    () => Promise.resolve({ reads: plRequests(fake, "GET", room!), users: usersOf(fake, room!) }),
  );
  await set;
  assert.equal(seen.reads, 2, "read fresh and read back before exclusive() ran");
  assert.equal(seen.users[person(1)], 100);
});
