/**
 * `plan()` as data: each row is a wish, what Synapse showed, and the exact plan — the decisions
 * of converging, tested without a Synapse (the executor's effects are in converge_test.ts).
 */
import assert from "node:assert/strict";
import {
  type Action,
  DEMOTION_KICK_REASON,
  groupLevels,
  levelledInRound,
  needsJoinedRooms,
  type Plan,
  plan,
  planRound,
  type RoundEntry,
  type Seen,
  type SeenAccount,
  wantedLevel,
} from "../../src/lifecycle/plan.ts";
import { LOGIN_RECHECK_MS, WAITING_FOR_LOGIN } from "../../src/lifecycle/login_watch.ts";
import type { Wish } from "../../src/lifecycle/wish.ts";
import type { RoomIds } from "../../src/matrix/deployment.ts";

const ROOMS: RoomIds = {
  space: "!space:x",
  general: "!general:x",
  helpdesk: "!helpdesk:x",
  offtopic: "!offtopic:x",
  admin: "!admin:x",
};
const PUBLIC = [ROOMS.space, ROOMS.general, ROOMS.helpdesk, ROOMS.offtopic];
const U = "@alice:x";

const WISH = {
  member: { member: true, admin: false, revoked: false, everAdmin: false },
  admin: { member: true, admin: true, revoked: false, everAdmin: true },
  demoted: { member: true, admin: false, revoked: false, everAdmin: true },
  demotedOnly: { member: false, admin: false, revoked: false, everAdmin: false },
  revoked: { member: false, admin: false, revoked: true, everAdmin: true },
} satisfies Record<string, Wish>;

const PERSON: SeenAccount = { admin: false, deactivated: false };
const DEACTIVATED: SeenAccount = { admin: false, deactivated: true };
const SERVER_ADMIN: SeenAccount = { admin: true, deactivated: false };

const join = (roomId: string): Action => ({ kind: "join", roomId });
const level = (l: number | null): Action[] =>
  PUBLIC.map((roomId) => ({ kind: "setLevel", roomId, level: l }));
const kickAdmin: Action = { kind: "kick", roomId: ROOMS.admin, reason: DEMOTION_KICK_REASON };
const seen = (account: SeenAccount | null, joined: string[] | null = []): Seen => ({
  account,
  joined: joined === null ? null : new Set(joined),
});
const act = (actions: Action[], detail: string): Plan => ({ kind: "act", actions, detail });
const WAIT_LOGIN: Plan = {
  kind: "wait",
  on: "login",
  reason: WAITING_FOR_LOGIN,
  retryMs: LOGIN_RECHECK_MS,
};

const TABLE: ReadonlyArray<{ name: string; wish: Wish; seen: Seen; plan: Plan }> = [
  {
    name: "a member without an account waits for the first login",
    wish: WISH.member,
    seen: seen(null, null),
    plan: WAIT_LOGIN,
  },
  {
    name: "an admin without an account waits too: no level for an account that is not there",
    wish: WISH.admin,
    seen: seen(null, null),
    plan: WAIT_LOGIN,
  },
  {
    name: "a new member (rooms not looked at) joins the Space and the three public rooms",
    wish: WISH.member,
    seen: seen(PERSON, null),
    plan: act(PUBLIC.map(join), `${U} is a member of the Space and public rooms`),
  },
  {
    name: "a member already in two rooms joins only the other two",
    wish: WISH.member,
    seen: seen(PERSON, [ROOMS.space, ROOMS.general, "!elsewhere:x"]),
    plan: act(
      [join(ROOMS.helpdesk), join(ROOMS.offtopic)],
      `${U} is a member of the Space and public rooms`,
    ),
  },
  {
    name: "a member everywhere (a duplicate callback) plans nothing but is still applied",
    wish: WISH.member,
    seen: seen(PERSON, PUBLIC),
    plan: act([], `${U} is a member of the Space and public rooms`),
  },
  {
    name: "a promoted member gets level 100 in the public rooms and joins the admin room",
    wish: WISH.admin,
    seen: seen(PERSON, PUBLIC),
    plan: act([...level(100), join(ROOMS.admin)], `${U} is an admin: level 100, in the admin room`),
  },
  {
    name: "a promotion before any join: levels, four joins and the admin room",
    wish: WISH.admin,
    seen: seen(PERSON, null),
    plan: act(
      [...level(100), ...PUBLIC.map(join), join(ROOMS.admin)],
      `${U} is an admin: level 100, in the admin room`,
    ),
  },
  {
    name: "a demoted ex-admin loses the level entry and is kicked, even when not seen joined",
    wish: WISH.demoted,
    seen: seen(PERSON, PUBLIC),
    plan: act([...level(null), kickAdmin], `${U} is a member of the Space and public rooms`),
  },
  {
    name: "a demotion of someone never promoted changes no level and kicks nobody",
    wish: WISH.demotedOnly,
    seen: seen(PERSON, PUBLIC),
    plan: act([], `${U} has no admin rights`),
  },
  {
    name: "a deactivated account is never joined to anything",
    wish: WISH.admin,
    seen: seen(DEACTIVATED, null),
    plan: { kind: "done", detail: `${U} is deactivated in Synapse; nothing joined` },
  },
  {
    name: "a revocation deactivates, removes the level entries, and waits until every room is left",
    wish: WISH.revoked,
    seen: seen(PERSON, null),
    plan: act(
      [{ kind: "deactivate" }, ...level(null), { kind: "confirmParted" }],
      `${U} is deactivated and erased, and has left every room`,
    ),
  },
  {
    name: "a revocation of an account already deactivated does not deactivate again",
    wish: WISH.revoked,
    seen: seen(DEACTIVATED, null),
    plan: act(
      [...level(null), { kind: "confirmParted" }],
      `${U} is deactivated and erased, and has left every room`,
    ),
  },
  {
    name: "a revocation of someone who never had an account is done at once",
    wish: WISH.revoked,
    seen: seen(null, null),
    plan: { kind: "done", detail: `${U} has no Matrix account; nothing to deactivate` },
  },
  ...(["member", "admin", "demoted", "revoked"] as const).map((w) => ({
    name: `a Synapse server admin is left untouched (${w})`,
    wish: WISH[w],
    seen: seen(SERVER_ADMIN, null),
    plan: {
      kind: "done",
      detail: `${U} is a Synapse server admin, not a person's account; left untouched`,
    } as Plan,
  })),
];

for (const row of TABLE) {
  Deno.test(`plan(): ${row.name}`, () => {
    assert.deepEqual(plan(U, row.wish, ROOMS, row.seen), row.plan);
  });
}

Deno.test("needsJoinedRooms(): only for an ordinary account converged before, and not revoked", () => {
  assert.equal(needsJoinedRooms(WISH.member, PERSON, false), true);
  assert.equal(needsJoinedRooms(WISH.member, PERSON, true), false, "first time: in no room");
  assert.equal(needsJoinedRooms(WISH.member, null, false), false, "no account");
  assert.equal(needsJoinedRooms(WISH.member, DEACTIVATED, false), false);
  assert.equal(needsJoinedRooms(WISH.member, SERVER_ADMIN, false), false);
  assert.equal(needsJoinedRooms(WISH.revoked, PERSON, false), false, "revocation looks after");
});

Deno.test("wantedLevel(): admin 100, ex-admin and revoked removed, never-admin unchanged", () => {
  assert.deepEqual(wantedLevel(WISH.admin), { level: 100 });
  assert.deepEqual(wantedLevel(WISH.demoted), { level: null });
  assert.deepEqual(wantedLevel(WISH.revoked), { level: null });
  assert.equal(wantedLevel(WISH.member), null);
  assert.equal(wantedLevel(WISH.demotedOnly), null);
});

Deno.test("groupLevels(): a burst of promotions is one change per room, the later entry winning", () => {
  const people = ["@a:x", "@b:x", "@c:x"];
  const planned: Array<{ userId: string; actions: readonly Action[] }> = people.map((userId) => {
    const p = plan(userId, WISH.admin, ROOMS, seen(PERSON, PUBLIC));
    assert.equal(p.kind, "act");
    return { userId, actions: p.kind === "act" ? p.actions : [] };
  });
  planned.push({ userId: "@b:x", actions: level(null) }); // demoted right after
  const grouped = groupLevels(planned);
  assert.deepEqual([...grouped.keys()].sort(), [...PUBLIC].sort(), "public rooms only");
  for (const roomId of PUBLIC) {
    assert.deepEqual(
      Object.fromEntries(grouped.get(roomId)!),
      { "@a:x": 100, "@b:x": null, "@c:x": 100 },
    );
  }
});

Deno.test("levelledInRound(): promotions and demotions are planned ahead; members and revocations at their turn", () => {
  assert.equal(levelledInRound(WISH.admin), true);
  assert.equal(levelledInRound(WISH.demoted), true);
  assert.equal(levelledInRound(WISH.member), false, "no level to set");
  assert.equal(levelledInRound(WISH.demotedOnly), false, "never an admin: no entry to remove");
  assert.equal(levelledInRound(WISH.revoked), false, "its levels go with its deactivation");
});

Deno.test("planRound(): a storm of promotions is each person's plan plus one level change per room", () => {
  const entries: RoundEntry[] = [
    ...Array.from({ length: 100 }, (_, i) => ({
      userId: `@p${i}:x`,
      wish: WISH.admin,
      seen: seen(PERSON, PUBLIC),
    })),
    { userId: "@ghost:x", wish: WISH.admin, seen: seen(null, null) },
    { userId: "@op:x", wish: WISH.admin, seen: seen(SERVER_ADMIN, null) },
    { userId: "@ex:x", wish: WISH.demoted, seen: seen(PERSON, [...PUBLIC, ROOMS.admin]) },
  ];
  const round = planRound(entries, ROOMS);
  assert.equal(round.plans.size, entries.length);
  for (const e of entries) {
    assert.deepEqual(round.plans.get(e.userId), plan(e.userId, e.wish, ROOMS, e.seen), e.userId);
  }
  assert.deepEqual([...round.levels.keys()].sort(), [...PUBLIC].sort(), "one change per room");
  for (const roomId of PUBLIC) {
    const change = round.levels.get(roomId)!;
    assert.equal(
      change.size,
      101,
      "the 100 promoted and the demoted; not who waits or an operator",
    );
    assert.equal(change.get("@p42:x"), 100);
    assert.equal(change.get("@ex:x"), null);
    assert.equal(change.has("@ghost:x") || change.has("@op:x"), false);
  }
});
