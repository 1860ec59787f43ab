/**
 * `converge()` (one person → Synapse) against the stand-in: waiting for a login, joins, admin
 * levels and room, demotion, revocation, and the accounts it must leave alone.
 */
import assert from "node:assert/strict";
import { carryOut, converge } from "../../src/lifecycle/converge.ts";
import { plan } from "../../src/lifecycle/plan.ts";
import { WAITING_FOR_LOGIN } from "../../src/lifecycle/login_watch.ts";
import type { Wish } from "../../src/lifecycle/wish.ts";
import type { RoomIds } from "../../src/matrix/deployment.ts";
import { createPowerLevelWriter } from "../../src/rooms/power_levels.ts";
import { createSynapseHttp } from "../../src/synapse/http.ts";
import { type FakeSynapse, startFakeSynapse } from "../support/fake_synapse.ts";

const PUBLIC = ["space", "general", "helpdesk", "offtopic"] as const;

const MEMBER: Wish = { member: true, admin: false, revoked: false, everAdmin: false };
const ADMIN: Wish = { member: true, admin: true, revoked: false, everAdmin: true };
const DEMOTED: Wish = { member: true, admin: false, revoked: false, everAdmin: true };
const REVOKED: Wish = { member: false, admin: false, revoked: true, everAdmin: true };

/** The stand-in with a bot, the deployment's five rooms (created by the bot) and a context. */
function setup(fake: FakeSynapse) {
  const bot = fake.addUser("bot", { admin: true });
  const synapse = createSynapseHttp({ baseUrl: fake.url, timeoutMs: 2000 }).as(bot.token);
  const rooms: RoomIds = {
    space: fake.addRoom(bot.userId),
    general: fake.addRoom(bot.userId),
    helpdesk: fake.addRoom(bot.userId),
    offtopic: fake.addRoom(bot.userId),
    admin: fake.addRoom(bot.userId),
  };
  const ctx = { bot: synapse, rooms, levels: createPowerLevelWriter(synapse) };
  return { bot, rooms, ctx };
}

function level(fake: FakeSynapse, roomId: string, userId: string): number | undefined {
  const pl = fake.rooms.get(roomId)?.state.get("m.room.power_levels\0")?.content;
  return (pl?.users as Record<string, number> | undefined)?.[userId];
}

/** Which of the deployment's rooms `userId` has joined, by key. */
function joined(fake: FakeSynapse, rooms: RoomIds, userId: string): string[] {
  return Object.entries(rooms).filter(([, id]) => fake.members(id).includes(userId))
    .map(([key]) => key).sort();
}

const joins = (fake: FakeSynapse) => fake.count("POST", /\/_synapse\/admin\/v1\/join\//);

Deno.test("converge(): a person without a Matrix account waits for the first login", async () => {
  await using fake = startFakeSynapse();
  const { ctx } = setup(fake);
  for (const wish of [MEMBER, ADMIN]) {
    const result = await converge(ctx, "@nobody:fake.test", wish);
    assert.equal(result.kind, "waiting");
    assert.equal(result.kind === "waiting" ? result.on : "", "login");
    assert.equal(result.kind === "waiting" ? result.reason : "", WAITING_FOR_LOGIN);
  }
  assert.equal(joins(fake), 0, "nothing joined");
  assert.equal(fake.count("PUT", /power_levels/), 0, "no level for an account that is not there");
});

Deno.test("converge(): a member is joined to the Space and the three public rooms, no more", async () => {
  await using fake = startFakeSynapse();
  const { ctx, rooms } = setup(fake);
  const p = fake.addUser("alice").userId;
  const result = await converge(ctx, p, MEMBER);
  assert.equal(result.kind, "done", JSON.stringify(result));
  assert.deepEqual(joined(fake, rooms, p), [...PUBLIC].sort());
  for (const k of PUBLIC) assert.equal(level(fake, rooms[k], p), undefined, k);
  assert.equal(fake.count("PUT", /power_levels/), 0);
  // Again (a duplicate callback): already a member everywhere, still done.
  assert.equal((await converge(ctx, p, MEMBER)).kind, "done");
  assert.deepEqual(joined(fake, rooms, p), [...PUBLIC].sort());
});

Deno.test("converge(): an admin gets level 100 in the public rooms and joins the admin room", async () => {
  await using fake = startFakeSynapse();
  const { ctx, rooms, bot } = setup(fake);
  const p = fake.addUser("alice").userId;
  const result = await converge(ctx, p, ADMIN);
  assert.equal(result.kind, "done", JSON.stringify(result));
  assert.deepEqual(joined(fake, rooms, p), ["admin", ...PUBLIC].sort());
  for (const k of PUBLIC) {
    assert.equal(level(fake, rooms[k], p), 100, k);
    assert.equal(level(fake, rooms[k], bot.userId), 100, `bot's level kept in ${k}`);
  }
  assert.equal(level(fake, rooms.admin, p), undefined, "no level in the admin room");
});

Deno.test("converge(): a demoted ex-admin loses the level and is kicked from the admin room", async () => {
  await using fake = startFakeSynapse();
  const { ctx, rooms } = setup(fake);
  const p = fake.addUser("alice").userId;
  assert.equal((await converge(ctx, p, ADMIN)).kind, "done");
  const result = await converge(ctx, p, DEMOTED);
  assert.equal(result.kind, "done", JSON.stringify(result));
  for (const k of PUBLIC) assert.equal(level(fake, rooms[k], p), undefined, k);
  assert.deepEqual(joined(fake, rooms, p), [...PUBLIC].sort(), "still a member");
  assert.equal(fake.count("POST", /\/kick$/), 1);
  // Repeated: not in the admin room any more, which is fine.
  assert.equal((await converge(ctx, p, DEMOTED)).kind, "done");
});

Deno.test("converge(): revoked is deactivated, loses its levels, and is done once it has left every room", async () => {
  await using fake = startFakeSynapse();
  const { ctx, rooms } = setup(fake);
  const p = fake.addUser("alice").userId;
  assert.equal((await converge(ctx, p, ADMIN)).kind, "done");
  // Synapse answers before it has parted the rooms: the first two looks still show one.
  fake.fault({
    path: /\/joined_rooms$/,
    times: 2,
    fault: { kind: "json", json: { joined_rooms: [rooms.general], total: 1 } },
  });
  const looksBefore = fake.count("GET", /\/joined_rooms$/);
  const result = await converge(ctx, p, REVOKED);
  assert.equal(result.kind, "done", JSON.stringify(result));
  assert.match(result.kind === "done" ? result.detail : "", /left every room/);
  assert.equal(
    fake.count("GET", /\/joined_rooms$/) - looksBefore,
    3,
    "looked until no room was left",
  );
  assert.equal(fake.users.get(p)?.deactivated, true);
  assert.deepEqual(joined(fake, rooms, p), []);
  for (const k of PUBLIC) assert.equal(level(fake, rooms[k], p), undefined, k);
  // Repeated: already deactivated, not deactivated again.
  assert.equal((await converge(ctx, p, REVOKED)).kind, "done");
  assert.equal(fake.count("POST", /\/deactivate\//), 1);
});

Deno.test("converge(): revoked is still waiting while Synapse shows rooms after its looks", async () => {
  await using fake = startFakeSynapse();
  const { ctx, rooms } = setup(fake);
  const p = fake.addUser("alice").userId;
  fake.fault({
    path: /\/joined_rooms$/,
    times: 11,
    fault: { kind: "json", json: { joined_rooms: [rooms.general], total: 1 } },
  });
  const result = await converge(ctx, p, REVOKED);
  assert.equal(result.kind, "waiting", JSON.stringify(result));
  assert.equal(result.kind === "waiting" ? result.on : "", "parting");
  assert.match(result.kind === "waiting" ? result.reason : "", /still removing/);
  assert.equal(fake.users.get(p)?.deactivated, true);
});

Deno.test("converge(): revoked without a Matrix account is done without touching Synapse", async () => {
  await using fake = startFakeSynapse();
  const { ctx } = setup(fake);
  const result = await converge(ctx, "@nobody:fake.test", REVOKED);
  assert.equal(result.kind, "done");
  assert.equal(fake.count("POST", /\/deactivate\//), 0);
  assert.equal(fake.count("PUT", /./), 0);
});

Deno.test("converge(): a Synapse server admin is left untouched, whatever the wish", async () => {
  await using fake = startFakeSynapse();
  const { ctx, rooms } = setup(fake);
  const op = fake.addUser("operator", { admin: true }).userId;
  for (const k of [...PUBLIC, "admin"] as const) {
    const room = fake.rooms.get(rooms[k])!;
    room.state.set(`m.room.member\0${op}`, {
      type: "m.room.member",
      state_key: op,
      content: { membership: "join" },
      sender: op,
      event_id: `$${k}`,
    });
  }
  for (const wish of [REVOKED, DEMOTED, MEMBER, ADMIN]) {
    const result = await converge(ctx, op, wish);
    assert.equal(result.kind, "done");
    assert.match(result.kind === "done" ? result.detail : "", /server admin.*untouched/);
  }
  assert.equal(fake.users.get(op)?.deactivated, false);
  assert.deepEqual(joined(fake, rooms, op), ["admin", ...PUBLIC].sort());
  const writes = fake.requests.filter((r) => r.method !== "GET");
  assert.deepEqual(writes, [], "only looked");
});

Deno.test("converge(): a deactivated account is never joined", async () => {
  await using fake = startFakeSynapse();
  const { ctx, rooms } = setup(fake);
  const p = fake.addUser("alice").userId;
  fake.users.get(p)!.deactivated = true;
  for (const wish of [MEMBER, ADMIN]) {
    const result = await converge(ctx, p, wish);
    assert.equal(result.kind, "done");
    assert.match(result.kind === "done" ? result.detail : "", /deactivated/);
  }
  assert.equal(joins(fake), 0);
  assert.deepEqual(joined(fake, rooms, p), []);
  assert.equal(fake.count("PUT", /power_levels/), 0, "no level for a deactivated account");
});

Deno.test("converge(): promoting a member costs one look at the account, one at its rooms and one join", async () => {
  await using fake = startFakeSynapse();
  const { ctx, rooms } = setup(fake);
  const p = fake.addUser("alice").userId;
  assert.equal((await converge(ctx, p, MEMBER)).kind, "done");
  const before = fake.requests.length;
  assert.equal((await converge(ctx, p, ADMIN)).kind, "done");
  const made = fake.requests.slice(before).map((r) => `${r.method} ${r.path.split("/")[4]}`);
  assert.deepEqual(joined(fake, rooms, p), ["admin", ...PUBLIC].sort());
  assert.equal(made.filter((m) => m.startsWith("POST join")).length, 1, made.join(", "));
  assert.equal(fake.count("GET", /\/members$/), 0, "no membership check: nothing was refused");
  assert.equal(made.filter((m) => m === "GET users").length, 2, "the account and its rooms");
  // Once more (RM re-sends): no join at all.
  const joinsBefore = joins(fake);
  assert.equal((await converge(ctx, p, ADMIN)).kind, "done");
  assert.equal(joins(fake), joinsBefore);
});

Deno.test("carryOut(): levels the round wrote are not written again; a room whose write failed is", async () => {
  await using fake = startFakeSynapse();
  const { ctx, rooms } = setup(fake);
  const plWrites = () => fake.count("PUT", /power_levels/);
  const account = { admin: false, deactivated: false };
  const p = fake.addUser("alice").userId;
  const decided = plan(p, ADMIN, rooms, { account, joined: null });
  const held = new Map(PUBLIC.map((k) => [rooms[k], Promise.resolve(true)]));
  const result = await carryOut(ctx, p, decided, held);
  assert.equal(result.kind, "done", JSON.stringify(result));
  assert.equal(plWrites(), 0, "the round's writes were trusted");
  assert.deepEqual(joined(fake, rooms, p), ["admin", ...PUBLIC].sort());

  // The round's write of one room failed: that room is written here, the others are not.
  const q = fake.addUser("bob").userId;
  const failedOne = new Map(held).set(rooms.general, Promise.resolve(false));
  const again = plan(q, ADMIN, rooms, { account, joined: null });
  assert.equal((await carryOut(ctx, q, again, failedOne)).kind, "done");
  assert.equal(level(fake, rooms.general, q), 100);
  assert.equal(plWrites(), 1);
});

Deno.test("converge(): a demotion withdraws a pending invitation to the admin room", async () => {
  await using fake = startFakeSynapse();
  const { ctx, rooms, bot } = setup(fake);
  const p = fake.addUser("alice").userId;
  assert.equal((await converge(ctx, p, MEMBER)).kind, "done");
  // A promotion cut short after Synapse's invitation, before the join.
  const admin = fake.rooms.get(rooms.admin)!;
  admin.state.set(`m.room.member\0${p}`, {
    type: "m.room.member",
    state_key: p,
    content: { membership: "invite" },
    sender: bot.userId,
    event_id: "$invite",
  });
  assert.equal((await converge(ctx, p, DEMOTED)).kind, "done");
  assert.equal(fake.count("POST", /\/kick$/), 1, "kicked although not joined");
  assert.equal(admin.state.get(`m.room.member\0${p}`)?.content.membership, "leave");
});

Deno.test("converge(): a first-time member is joined without asking where they are; already joined is still done", async () => {
  await using fake = startFakeSynapse();
  const { ctx, rooms } = setup(fake);
  const p = fake.addUser("alice").userId;
  assert.equal((await converge(ctx, p, MEMBER, { firstTime: true })).kind, "done");
  assert.equal(fake.count("GET", /\/joined_rooms$/), 0);
  assert.equal(joins(fake), 4);
  // The hint was wrong (a restart after the joins): Synapse refuses, the member list confirms.
  assert.equal((await converge(ctx, p, MEMBER, { firstTime: true })).kind, "done");
  assert.deepEqual(joined(fake, rooms, p), [...PUBLIC].sort());
});
