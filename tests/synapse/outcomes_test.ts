import assert from "node:assert/strict";
import { createSynapseHttp, SynapseError } from "../../src/synapse/http.ts";
import { adminJoin, joinedRooms, kick } from "../../src/synapse/membership.ts";
import { createRoom, getState, putState, resolveAlias } from "../../src/synapse/rooms.ts";
import {
  deactivateUser,
  disableRatelimit,
  getUser,
  loginAs,
  newestUsers,
  whoami,
} from "../../src/synapse/users.ts";
import { registerWithSharedSecret } from "../../src/synapse/registration.ts";
import { type FakeSynapse, startFakeSynapse } from "../support/fake_synapse.ts";

/** The stand-in with a server-admin bot, and a caller as the bot. */
function asBot(fake: FakeSynapse) {
  const bot = fake.addUser("bot", { admin: true });
  const http = createSynapseHttp({ baseUrl: fake.url });
  return { bot, http, synapse: http.as(bot.token) };
}

Deno.test("getUser() is null for a user Synapse does not have, and numeric flags become booleans", async () => {
  await using fake = startFakeSynapse();
  const { synapse } = asBot(fake);
  const person = fake.addUser("person");
  assert.equal(await getUser(synapse, "@nobody:fake.test"), null);
  const found = await getUser(synapse, person.userId);
  assert.deepEqual([found?.name, found?.admin, found?.deactivated], [person.userId, false, false]);
  // Older Synapses answer the flags as 0/1.
  fake.fault({
    path: /\/v2\/users\//,
    fault: { kind: "json", json: { name: "@p:x", admin: 1, deactivated: 0 } },
  });
  const legacy = await getUser(synapse, person.userId);
  assert.deepEqual([legacy?.admin, legacy?.deactivated], [true, false]);
});

Deno.test("getUser() rethrows what is not a 404: a caller that is no admin gets the 403", async () => {
  await using fake = startFakeSynapse();
  const { http } = asBot(fake);
  const person = fake.addUser("person");
  await assert.rejects(
    () => getUser(http.as(person.token), person.userId),
    (err) => err instanceof SynapseError && err.status === 403 && err.errcode === "M_FORBIDDEN",
  );
});

Deno.test("whoami() is invalid with the errcode on a 401, and rethrows a 5xx", async () => {
  await using fake = startFakeSynapse();
  const { bot, http, synapse } = asBot(fake);
  assert.deepEqual(await whoami(synapse), { kind: "valid", userId: bot.userId });
  fake.fault({ path: /whoami$/, fault: { kind: "unknownToken" } });
  assert.deepEqual(await whoami(synapse), { kind: "invalid", errcode: "M_UNKNOWN_TOKEN" });
  assert.deepEqual(await whoami(http.as("never-issued")), {
    kind: "invalid",
    errcode: "M_UNKNOWN_TOKEN",
  });
  fake.users.get(bot.userId)!.locked = true;
  assert.deepEqual(await whoami(synapse), { kind: "invalid", errcode: "M_USER_LOCKED" });
  fake.users.get(bot.userId)!.locked = false;
  fake.fault({ path: /whoami$/, fault: { kind: "error", status: 502 } });
  await assert.rejects(
    () => whoami(synapse),
    (err) => err instanceof SynapseError && err.status === 502,
  );
  assert.deepEqual(await whoami(synapse), { kind: "valid", userId: bot.userId }, "faults are over");
});

Deno.test("adminJoin(): joined, then alreadyJoined (asked the member list), and userMissing", async () => {
  await using fake = startFakeSynapse();
  const { bot, synapse } = asBot(fake);
  const person = fake.addUser("person");
  const roomId = fake.addRoom(bot.userId);
  assert.equal(await adminJoin(synapse, roomId, person.userId), "joined");
  assert.deepEqual(await joinedRooms(synapse, person.userId), [roomId]);
  assert.equal(await adminJoin(synapse, roomId, person.userId), "alreadyJoined");
  assert.equal(fake.count("GET", /\/members$/), 1, "the 403 was checked against the members");
  assert.equal(await adminJoin(synapse, roomId, "@nobody:fake.test"), "userMissing");
});

Deno.test("adminJoin(): a 403 for someone not in the room and a missing room are errors", async () => {
  await using fake = startFakeSynapse();
  const { synapse } = asBot(fake);
  const person = fake.addUser("person");
  const someoneElses = fake.addRoom(fake.addUser("owner").userId); // the bot is not in it
  await assert.rejects(
    () => adminJoin(synapse, someoneElses, person.userId),
    (err) => err instanceof SynapseError && err.status === 403 && /\/join\//.test(err.endpoint),
  );
  await assert.rejects(
    () => adminJoin(synapse, "!gone:fake.test", person.userId),
    (err) => err instanceof SynapseError && err.status === 404 && err.errcode !== "M_NOT_FOUND",
    "a 404 that is not M_NOT_FOUND is not userMissing",
  );
});

Deno.test("kick(): kicked, then notInRoom; a refused kick of a member is an error", async () => {
  await using fake = startFakeSynapse();
  const { bot, synapse } = asBot(fake);
  const person = fake.addUser("person");
  const roomId = fake.addRoom(bot.userId, { public: true });
  await adminJoin(synapse, roomId, person.userId);
  assert.equal(await kick(synapse, roomId, person.userId, "revoked"), "kicked");
  assert.deepEqual(fake.members(roomId), [bot.userId]);
  assert.equal(await kick(synapse, roomId, person.userId, "revoked"), "notInRoom");
  const peer = fake.addUser("peer");
  await adminJoin(synapse, roomId, peer.userId);
  const levels = await getState(synapse, roomId, "m.room.power_levels");
  await putState(synapse, roomId, "m.room.power_levels", "", {
    ...levels,
    users: { [bot.userId]: 100, [peer.userId]: 100 },
  });
  await assert.rejects(
    () => kick(synapse, roomId, peer.userId, "revoked"),
    (err) => err instanceof SynapseError && err.status === 403 && /\/kick$/.test(err.endpoint),
    "a peer at the bot's level cannot be kicked: the refusal itself is thrown",
  );
  assert.deepEqual(fake.members(roomId), [bot.userId, peer.userId]);
});

Deno.test("newestUsers() pages newest first and turns a numeric next_token into a string", async () => {
  await using fake = startFakeSynapse();
  const { bot, synapse } = asBot(fake);
  const created = [3_000, 1_000, 2_000].map((ts, i) =>
    fake.addUser(`p${i}`, { creationTs: 10_000 + ts }).userId
  );
  const first = await newestUsers(synapse, { limit: 2 });
  assert.deepEqual(first.users.map((u) => u.userId), [bot.userId, created[0]]);
  assert.notEqual(first.next, null);
  const second = await newestUsers(synapse, { limit: 2, from: first.next! });
  assert.deepEqual(second.users, [
    { userId: created[2], createdAt: 12_000 },
    { userId: created[1], createdAt: 11_000 },
  ]);
  assert.equal(second.next, null);
  const q = new URLSearchParams(fake.requests.at(-1)!.search);
  assert.deepEqual([q.get("order_by"), q.get("dir"), q.get("from")], ["creation_ts", "b", "2"]);
  fake.fault({ path: /\/v2\/users$/, fault: { kind: "json", json: { users: [], next_token: 7 } } });
  assert.deepEqual(await newestUsers(synapse), { users: [], next: "7" });
});

Deno.test("rooms: a free alias is null, a taken one is aliasTaken, a create race (409) too", async () => {
  await using fake = startFakeSynapse();
  const { synapse } = asBot(fake);
  assert.equal(await resolveAlias(synapse, "#general:fake.test"), null);
  const made = await createRoom(synapse, { room_alias_name: "general", name: "General" });
  assert.equal(made.kind, "created");
  const roomId = made.kind === "created" ? made.roomId : "";
  assert.equal(await resolveAlias(synapse, "#general:fake.test"), roomId);
  assert.deepEqual(await createRoom(synapse, { room_alias_name: "general" }), {
    kind: "aliasTaken",
  });
  fake.fault({ path: /createRoom$/, fault: { kind: "error", status: 409, errcode: "M_UNKNOWN" } });
  assert.deepEqual(await createRoom(synapse, { room_alias_name: "other" }), { kind: "aliasTaken" });
  assert.deepEqual(await getState(synapse, roomId, "m.room.name"), { name: "General" });
});

Deno.test("rooms: state written is read back, missing state is null, a refused write throws", async () => {
  await using fake = startFakeSynapse();
  const { bot, synapse } = asBot(fake);
  const roomId = fake.addRoom(bot.userId);
  assert.equal(await getState(synapse, roomId, "m.room.topic"), null);
  const levels = await getState(synapse, roomId, "m.room.power_levels");
  const next = { ...levels, users: { [bot.userId]: 100, "@p:fake.test": 50 } };
  assert.match(await putState(synapse, roomId, "m.room.power_levels", "", next), /^\$/);
  assert.deepEqual(await getState(synapse, roomId, "m.room.power_levels"), next);
  const demoted = { ...next, users: { [bot.userId]: 0 } };
  await putState(synapse, roomId, "m.room.power_levels", "", demoted);
  await assert.rejects(
    () => putState(synapse, roomId, "m.room.topic", "", { topic: "x" }),
    (err) => err instanceof SynapseError && err.status === 403,
    "at level 0 the bot may not write state any more",
  );
});

Deno.test("users: login-as mints a working token, deactivation is false for nobody, rate limits read back", async () => {
  await using fake = startFakeSynapse();
  const { http, synapse } = asBot(fake);
  const person = fake.addUser("person");
  const minted = await loginAs(synapse, person.userId);
  assert.deepEqual(await whoami(http.as(minted)), { kind: "valid", userId: person.userId });
  assert.equal(await disableRatelimit(synapse, person.userId), true);
  fake.fault({
    method: "GET",
    path: /override_ratelimit$/,
    fault: { kind: "json", json: { messages_per_second: 5, burst_count: 0 } },
  });
  assert.equal(await disableRatelimit(synapse, person.userId), false, "a read-back that differs");
  assert.equal(await deactivateUser(synapse, "@nobody:fake.test", false), false);
  assert.equal(await deactivateUser(synapse, person.userId, false), true);
  assert.equal((await whoami(http.as(minted))).kind, "invalid", "its tokens died with it");
});

Deno.test("registerWithSharedSecret(): registered, then userInUse, a fresh nonce each time", async () => {
  await using fake = startFakeSynapse({ registrationSecret: "s3cret" });
  const http = createSynapseHttp({ baseUrl: fake.url });
  const user = { username: "newbot", password: "pw", admin: true };
  const first = await registerWithSharedSecret(http, "s3cret", user);
  assert.equal(first.kind, "registered");
  assert.equal(first.kind === "registered" ? first.userId : "", "@newbot:fake.test");
  assert.equal(fake.users.get("@newbot:fake.test")?.admin, true);
  assert.deepEqual(await registerWithSharedSecret(http, "s3cret", user), { kind: "userInUse" });
  assert.equal(fake.count("GET", /\/register$/), 2);
  await assert.rejects(
    () => registerWithSharedSecret(http, "wrong", { ...user, username: "other" }),
    (err) => err instanceof SynapseError && err.status === 403,
  );
});

Deno.test("a 404 that is not M_NOT_FOUND (a proxy without the admin API) is a failure, never 'missing'", async () => {
  await using fake = startFakeSynapse();
  const { synapse } = asBot(fake);
  const person = fake.addUser("person");
  const unrouted = { kind: "error", status: 404, errcode: "M_UNRECOGNIZED" } as const;
  const rooms = await createRoom(synapse, { room_alias_name: "r" });
  assert.equal(rooms.kind, "created");
  const roomId = rooms.kind === "created" ? rooms.roomId : "";
  const calls: Array<[RegExp, () => Promise<unknown>]> = [
    [/\/v2\/users\//, () => getUser(synapse, person.userId)],
    [/\/deactivate\//, () => deactivateUser(synapse, person.userId, false)],
    [/\/directory\/room\//, () => resolveAlias(synapse, "#r:fake.test")],
    [/\/state\//, () => getState(synapse, roomId, "m.room.topic")],
    [/\/admin\/v1\/join\//, () => adminJoin(synapse, roomId, person.userId)],
  ];
  for (const [path, call] of calls) {
    fake.fault({ path, fault: unrouted });
    await assert.rejects(
      call,
      (err) => err instanceof SynapseError && err.errcode === "M_UNRECOGNIZED",
      String(path),
    );
  }
  assert.equal(fake.users.get(person.userId)?.deactivated, false, "nothing was deactivated");
});
