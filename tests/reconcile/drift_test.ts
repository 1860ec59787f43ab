/**
 * The drift pass against the stand-in, on rooms the bootstrap's own routines created and brought
 * to the spec: hand edits repaired and counted, dry runs, admins' levels per the wishes.
 */
import assert from "node:assert/strict";
import { ensureRooms } from "../../src/rooms/ensure.ts";
import type { Wish } from "../../src/lifecycle/wish.ts";
import { createMemoryLogger } from "../../src/log/logger.ts";
import type { RoomIds } from "../../src/matrix/deployment.ts";
import { correctDrift, type DriftContext } from "../../src/reconcile/drift.ts";
import { createRoomLocks } from "../../src/rooms/locks.ts";
import { reconcileRoomState } from "../../src/rooms/state.ts";
import { createSynapseHttp } from "../../src/synapse/http.ts";
import { adminJoin } from "../../src/synapse/membership.ts";
import { createWishStore, type WishStore } from "../../src/store/wishes.ts";
import { type FakeSynapse, startFakeSynapse } from "../support/fake_synapse.ts";

const PUBLIC = ["space", "general", "helpdesk", "offtopic"] as const;

/**
 * The deployment as the bootstrap leaves it: rooms created by alias with the spec's state, then
 * the state pass (links, power levels). `drift(dryRun)` runs the pass under test.
 */
async function setup(fake: FakeSynapse, kv: Deno.Kv) {
  const bot = fake.addUser("bot", { admin: true });
  const synapse = createSynapseHttp({ baseUrl: fake.url, timeoutMs: 2000 }).as(bot.token);
  const log = createMemoryLogger();
  const base = {
    synapse,
    botUserId: bot.userId,
    deployment: "drill",
    serverName: "fake.test",
    log,
  };
  const { ids: rooms } = await ensureRooms(base);
  const wishes = createWishStore(kv);
  const ctx: DriftContext = { ...base, rooms, locks: createRoomLocks(), wishes };
  await reconcileRoomState(ctx, { purpose: "bootstrap" });
  return {
    bot,
    synapse,
    rooms,
    wishes,
    log,
    drift: (dryRun: boolean) => correctDrift(ctx, dryRun),
  };
}

/** The content of a state event as the stand-in holds it. */
function content(fake: FakeSynapse, roomId: string, type: string, key = "") {
  return fake.rooms.get(roomId)?.state.get(`${type}\0${key}`)?.content;
}

/** A hand edit in the stand-in: the content of one state event replaced. */
function edit(
  fake: FakeSynapse,
  roomId: string,
  type: string,
  change: (c: Record<string, unknown>) => Record<string, unknown>,
): void {
  const room = fake.rooms.get(roomId)!;
  const old = room.state.get(`${type}\0`)!;
  room.state.set(`${type}\0`, { ...old, content: change(structuredClone(old.content)) });
}

function users(fake: FakeSynapse, roomId: string): Record<string, number> {
  return { ...(content(fake, roomId, "m.room.power_levels")?.users as Record<string, number>) };
}

const writes = (fake: FakeSynapse) => fake.requests.filter((r) => r.method !== "GET").length;

/** Records a wish as the durable lifecycle would; `applied` when the worker is done with it. */
async function wish(store: WishStore, userId: string, w: Wish, applied: boolean): Promise<void> {
  const now = new Date().toISOString();
  await store.update(userId, () => ({
    version: 1,
    userId,
    callsign: userId.slice(1, userId.indexOf(":")),
    ...w,
    generation: 1,
    appliedGeneration: applied ? 1 : 0,
    lastAction: w.revoked ? "revoked" : w.admin ? "promoted" : "created",
    updatedAt: now,
    pendingSince: applied ? null : now,
    attempts: 0,
    nextAttemptAt: 0,
    lastError: null,
    waitingFor: null,
  }));
}

/** `userId` joined to the rooms `keys` by the bot, as the worker does. */
async function join(
  synapse: Parameters<typeof adminJoin>[0],
  rooms: RoomIds,
  userId: string,
  keys: ReadonlyArray<keyof RoomIds>,
) {
  for (const k of keys) assert.equal(await adminJoin(synapse, rooms[k], userId), "joined");
}

Deno.test("drift: rooms as the bootstrap left them have no drift, and a pass writes nothing", async () => {
  await using fake = startFakeSynapse();
  await using kv = await Deno.openKv(":memory:");
  const d = await setup(fake, kv);
  assert.equal(content(fake, d.rooms.general, "m.room.join_rules")?.join_rule, "restricted");
  const before = writes(fake);
  assert.equal(await d.drift(false), 0);
  assert.equal(writes(fake), before);
});

Deno.test("drift: a hand-edited join rule and a lowered protected level are repaired and counted; a dry run writes nothing", async () => {
  await using fake = startFakeSynapse();
  await using kv = await Deno.openKv(":memory:");
  const d = await setup(fake, kv);
  edit(fake, d.rooms.general, "m.room.join_rules", () => ({ join_rule: "public" }));
  edit(fake, d.rooms.helpdesk, "m.room.power_levels", (c) => ({
    ...c,
    events: { ...(c.events as object), "m.room.encryption": 50 },
  }));
  const before = writes(fake);
  assert.equal(await d.drift(true), 2, "dry run: both found");
  assert.equal(writes(fake), before, "dry run: nothing written");
  assert.equal(content(fake, d.rooms.general, "m.room.join_rules")?.join_rule, "public");
  assert.equal(
    d.log.lines.filter((l) => l.includes("drift: room state differs")).length,
    2,
    "each difference logged",
  );

  assert.equal(await d.drift(false), 2);
  assert.equal(writes(fake), before + 2, "one write per difference");
  assert.deepEqual(content(fake, d.rooms.general, "m.room.join_rules"), {
    join_rule: "restricted",
    allow: [{ type: "m.room_membership", room_id: d.rooms.space }],
  });
  const events = content(fake, d.rooms.helpdesk, "m.room.power_levels")?.events as Record<
    string,
    number
  >;
  assert.equal(events["m.room.encryption"], 100);
  assert.equal(users(fake, d.rooms.helpdesk)[d.bot.userId], 200, "the bot's level kept");

  const after = writes(fake);
  assert.equal(await d.drift(false), 0, "a second pass finds nothing");
  assert.equal(writes(fake), after);
});

Deno.test("drift: a joined admin gets level 100; revoked and demoted entries are removed", async () => {
  await using fake = startFakeSynapse();
  await using kv = await Deno.openKv(":memory:");
  const d = await setup(fake, kv);
  const admin = fake.addUser("admin").userId;
  const pending = fake.addUser("pending").userId;
  const revoked = fake.addUser("revoked").userId;
  const demoted = fake.addUser("demoted").userId;
  const member = fake.addUser("member").userId;
  const outsider = "@outsider:fake.test";
  const ADMIN: Wish = { member: true, admin: true, revoked: false, everAdmin: true };
  await wish(d.wishes, admin, ADMIN, true);
  await wish(d.wishes, pending, ADMIN, false); // still converging: the worker's, not drift's
  await wish(
    d.wishes,
    revoked,
    { member: false, admin: false, revoked: true, everAdmin: true },
    true,
  );
  await wish(
    d.wishes,
    demoted,
    { member: true, admin: false, revoked: false, everAdmin: true },
    true,
  );
  await wish(
    d.wishes,
    member,
    { member: true, admin: false, revoked: false, everAdmin: false },
    true,
  );
  // The admin joined the Space and general only (say, left the others by hand).
  await join(d.synapse, d.rooms, admin, ["space", "general"]);
  await join(d.synapse, d.rooms, member, PUBLIC);
  for (const k of PUBLIC) {
    edit(fake, d.rooms[k], "m.room.power_levels", (c) => ({
      ...c,
      users: {
        ...(c.users as object),
        [revoked]: 100,
        [demoted]: 100,
        [pending]: 50,
        [member]: 20, // set by a room moderator: not the service's business
        [outsider]: 10,
      },
    }));
  }
  edit(fake, d.rooms.admin, "m.room.power_levels", (c) => ({
    ...c,
    users: { ...(c.users as object), [revoked]: 100 },
  }));

  const before = writes(fake);
  assert.equal(await d.drift(true), 4, "dry run: one power-level write per public room");
  assert.equal(writes(fake), before);
  assert.equal(await d.drift(false), 4);
  for (const k of PUBLIC) {
    const u = users(fake, d.rooms[k]);
    const inRoom = k === "space" || k === "general";
    assert.equal(u[admin], inRoom ? 100 : undefined, `admin in ${k}`);
    assert.equal(u[revoked], undefined, `revoked in ${k}`);
    assert.equal(u[demoted], undefined, `demoted in ${k}`);
    assert.equal(u[pending], 50, `a wish still converging is left alone in ${k}`);
    assert.equal(u[member], 20, `a level nobody asked about is kept in ${k}`);
    assert.equal(u[outsider], 10, k);
    assert.equal(u[d.bot.userId], 200, k);
  }
  assert.equal(users(fake, d.rooms.admin)[revoked], 100, "the admin room's levels are not drift's");
  assert.equal(await d.drift(false), 0, "a second pass finds nothing");
});
