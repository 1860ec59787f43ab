/**
 * @module What Synapse should be told, decided without calling it: `plan()` turns a wish and what
 * was seen of the person in Synapse into a list of actions; `planRound()` plans many people at
 * once and groups their level actions into one change per room. Pure; the executor
 * (`converge.ts`) runs the actions, the worker's round (`round.ts`) runs the grouped levels.
 */
import type { RoomIds } from "../matrix/deployment.ts";
import { ADMIN_LEVEL, PUBLIC_ROOMS } from "../rooms/spec.ts";
import type { Wish } from "./wish.ts";
import { LOGIN_RECHECK_MS, WAITING_FOR_LOGIN } from "./login_watch.ts";

/** The account as Synapse's admin API shows it; `null` when it has none. */
export interface SeenAccount {
  readonly admin: boolean;
  readonly deactivated: boolean;
}

/** What was seen of one person before planning. */
export interface Seen {
  readonly account: SeenAccount | null;
  /**
   * The rooms the person has joined; `null` when nobody looked because nothing of theirs was
   * ever applied (they are in none of our rooms), which saves the look on a first convergence.
   */
  readonly joined: ReadonlySet<string> | null;
}

/** One effect on Synapse, as data. Joins run in order; level writes alongside them. */
export type Action =
  | { readonly kind: "deactivate" }
  /** `level: null` removes the person's entry (the room default applies). */
  | { readonly kind: "setLevel"; readonly roomId: string; readonly level: number | null }
  | { readonly kind: "join"; readonly roomId: string }
  | { readonly kind: "kick"; readonly roomId: string; readonly reason: string }
  /** Done only once Synapse shows the person in no room (it parts them after answering). */
  | { readonly kind: "confirmParted" };

export type Plan =
  /** Nothing to run (or nothing may be run): the wish holds as far as we are concerned. */
  | { readonly kind: "done"; readonly detail: string }
  /** Not an error: something outside has to happen first (the person's first login). */
  | {
    readonly kind: "wait";
    /** What it waits for; `reason` says it to a person (status, logs). */
    readonly on: "login";
    readonly reason: string;
    readonly retryMs: number;
  }
  /** Run `actions`; if they all succeed, the wish is applied and `detail` says how it stands. */
  | { readonly kind: "act"; readonly actions: readonly Action[]; readonly detail: string };

export const DEMOTION_KICK_REASON = "No longer an admin in Deploy App";

/** Whether `plan()` needs to know the person's rooms (an account that can be joined, not new). */
export function needsJoinedRooms(
  wish: Wish,
  account: SeenAccount | null,
  firstTime: boolean,
): boolean {
  return !firstTime && !wish.revoked && account !== null && !account.admin &&
    !account.deactivated;
}

/** The level `wish` gives in every public room: a number, `null` to remove, or no change. */
export function wantedLevel(wish: Wish): { readonly level: number | null } | null {
  if (wish.revoked) return { level: null }; // a revoked person keeps no entry: bounded state
  if (wish.admin) return { level: ADMIN_LEVEL };
  return wish.everAdmin ? { level: null } : null; // never an admin: no entry to remove
}

/**
 * The actions that bring Synapse to `wish` for `userId`, given what was `seen`.
 *
 * @example
 * plan("@a:x", { member: true, admin: false, revoked: false, everAdmin: false }, rooms,
 *   { account: { admin: false, deactivated: false }, joined: new Set([rooms.space]) })
 * // → act: join general, helpdesk, offtopic
 */
export function plan(userId: string, wish: Wish, rooms: RoomIds, seen: Seen): Plan {
  const account = seen.account;
  // People are never server admins; the bot, its recovery admins and operators are. Acting on
  // such an account (kick, deactivate, a lower level) could lock the service out of Synapse.
  if (account?.admin) {
    return {
      kind: "done",
      detail: `${userId} is a Synapse server admin, not a person's account; left untouched`,
    };
  }
  if (wish.revoked) return _planRevocation(userId, rooms, account);
  if (account === null) {
    return { kind: "wait", on: "login", reason: WAITING_FOR_LOGIN, retryMs: LOGIN_RECHECK_MS };
  }
  // The admin join API joins deactivated users too; a deactivated account is never touched.
  if (account.deactivated) {
    return { kind: "done", detail: `${userId} is deactivated in Synapse; nothing joined` };
  }
  const joined = seen.joined ?? new Set<string>();
  const levels = _levelActions(rooms, wantedLevel(wish));
  const wanted = [
    ...(wish.member ? PUBLIC_ROOMS.map((key) => rooms[key]) : []),
    ...(wish.admin ? [rooms.admin] : []),
  ];
  const joins: Action[] = wanted.filter((roomId) => !joined.has(roomId))
    .map((roomId) => ({ kind: "join", roomId }));
  // Kicked even when not seen joined: a pending invitation (a promotion's join cut short) would
  // let the ex-admin in; kicking withdraws it.
  const kicks: Action[] = !wish.admin && wish.everAdmin
    ? [{ kind: "kick", roomId: rooms.admin, reason: DEMOTION_KICK_REASON }]
    : [];
  const detail = wish.admin
    ? `${userId} is an admin: level ${ADMIN_LEVEL}, in the admin room`
    : wish.member
    ? `${userId} is a member of the Space and public rooms`
    : `${userId} has no admin rights`;
  return { kind: "act", actions: [...levels, ...joins, ...kicks], detail };
}

function _planRevocation(userId: string, rooms: RoomIds, account: SeenAccount | null): Plan {
  if (account === null) {
    return { kind: "done", detail: `${userId} has no Matrix account; nothing to deactivate` };
  }
  return {
    kind: "act",
    actions: [
      ...(account.deactivated ? [] : [{ kind: "deactivate" } as const]),
      ..._levelActions(rooms, { level: null }),
      { kind: "confirmParted" },
    ],
    detail: `${userId} is deactivated and erased, and has left every room`,
  };
}

function _levelActions(rooms: RoomIds, wanted: { level: number | null } | null): Action[] {
  if (wanted === null) return [];
  return PUBLIC_ROOMS.map((key) => ({ kind: "setLevel", roomId: rooms[key], level: wanted.level }));
}

/** One person's level actions, for `groupLevels`. */
export interface PlannedLevels {
  readonly userId: string;
  readonly actions: readonly Action[];
}

/**
 * Many people's `setLevel` actions as one change per room (user → level, `null` removes), so a
 * burst of promotions is one power-level write per room. A later entry for the same person and
 * room wins, as a later wish does.
 */
export function groupLevels(
  planned: readonly PlannedLevels[],
): ReadonlyMap<string, ReadonlyMap<string, number | null>> {
  const rooms = new Map<string, Map<string, number | null>>();
  for (const { userId, actions } of planned) {
    for (const action of actions) {
      if (action.kind !== "setLevel") continue;
      const room = rooms.get(action.roomId) ?? new Map<string, number | null>();
      room.set(userId, action.level);
      rooms.set(action.roomId, room);
    }
  }
  return rooms;
}

/**
 * Whether a wish's plan sets levels that a round can write for many people at once: a wanted level
 * and no revocation (a revocation's levels go with its deactivation, in the person's own turn).
 */
export function levelledInRound(wish: Wish): boolean {
  return !wish.revoked && wantedLevel(wish) !== null;
}

/** One person as a round sees them: the wish and what was seen in Synapse. */
export interface RoundEntry {
  readonly userId: string;
  readonly wish: Wish;
  readonly seen: Seen;
}

/** A round's plan: each person's own plan, and all their level actions as one change per room. */
export interface RoundPlan {
  readonly plans: ReadonlyMap<string, Plan>;
  readonly levels: ReadonlyMap<string, ReadonlyMap<string, number | null>>;
}

/** Plans every entry and groups the level actions of those who act (see `groupLevels`). */
export function planRound(entries: readonly RoundEntry[], rooms: RoomIds): RoundPlan {
  const plans = new Map<string, Plan>();
  for (const e of entries) plans.set(e.userId, plan(e.userId, e.wish, rooms, e.seen));
  const acting = [...plans].flatMap(([userId, p]) =>
    p.kind === "act" ? [{ userId, actions: p.actions }] : []
  );
  return { plans, levels: groupLevels(acting) };
}
