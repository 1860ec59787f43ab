/**
 * @module Brings Synapse to one person's wish, idempotently: every step first asks or tolerates
 * "already so", so repeating it after a crash or a duplicate callback changes nothing.
 */
import type { SynapseCaller } from "../synapse/http.ts";
import { adminJoin, joinedRooms, kick } from "../synapse/membership.ts";
import { type AdminUser, deactivateUser, getUser } from "../synapse/users.ts";
import type { RoomIds } from "../matrix/deployment.ts";
import type { PowerLevelWriter } from "../rooms/power_levels.ts";
import { ADMIN_LEVEL, PUBLIC_ROOMS } from "../rooms/spec.ts";
import type { Wish } from "./wish.ts";
import { LOGIN_RECHECK_MS, WAITING_FOR_LOGIN } from "./login_watch.ts";

export interface ConvergeContext {
  /** Calls as the bot. */
  readonly synapse: SynapseCaller;
  readonly rooms: RoomIds;
  readonly levels: PowerLevelWriter;
}

/**
 * What the worker already knows about this wish from moments ago (priming a burst): converging
 * then does not ask or write it again.
 */
export interface Prepared {
  /** The account as Synapse showed it, looked up within the last few seconds. */
  readonly user?: AdminUser;
  /**
   * The level this wish gives in every public room, already handed to the serialiser: resolves
   * true once Synapse shows it everywhere, false if any write failed (converging then writes).
   */
  readonly levels?: Promise<boolean>;
  /**
   * Nothing of this person's was applied before: they are in none of the rooms yet, so the joins
   * go ahead without first asking where they are (a join that finds them there is still fine).
   */
  readonly firstTime?: boolean;
}

export type ConvergeResult =
  | { readonly kind: "done"; readonly detail: string }
  /** Not an error: something has to happen first (a login, Synapse parting rooms). */
  | { readonly kind: "waiting"; readonly reason: string; readonly retryMs: number };

export async function converge(
  ctx: ConvergeContext,
  userId: string,
  wish: Wish,
  prepared: Prepared = {},
): Promise<ConvergeResult> {
  const user = prepared.user ?? await getUser(ctx.synapse, userId);
  // People are never server admins; the bot, its recovery admins and operators are. Acting on
  // such an account (kick, deactivate, a lower level) could lock the service out of Synapse.
  if (user?.admin) {
    return {
      kind: "done",
      detail: `${userId} is a Synapse server admin, not a person's account; left untouched`,
    };
  }
  if (wish.revoked) {
    return await _revoke(ctx, userId, user !== null && !user.deactivated, user !== null);
  }
  if (user === null) {
    return { kind: "waiting", reason: WAITING_FOR_LOGIN, retryMs: LOGIN_RECHECK_MS };
  }
  // The admin join API joins deactivated users too; a deactivated account is never touched.
  if (user.deactivated) {
    return { kind: "done", detail: `${userId} is deactivated in Synapse; nothing joined` };
  }

  // One look at where the person is, then only the joins (and the kick) that are missing: a
  // promotion of a member is then one join, not five joins and five membership checks.
  const already = new Set(prepared.firstTime ? [] : await joinedRooms(ctx.synapse, userId));
  const level = wish.admin ? ADMIN_LEVEL : wish.everAdmin ? null : undefined;
  // Levels go to the serialiser in parallel with the joins: promotions arriving together then
  // meet in the same power-level write.
  const levels = level === undefined ? Promise.resolve() : _levels(ctx, userId, level, prepared);
  const wanted = [
    ...(wish.member ? PUBLIC_ROOMS.map((key) => ctx.rooms[key]) : []),
    ...(wish.admin ? [ctx.rooms.admin] : []),
  ];
  const joins = (async () => {
    for (const roomId of wanted) {
      if (already.has(roomId)) continue;
      if (await adminJoin(ctx.synapse, roomId, userId) === "userMissing") return "userMissing";
    }
    return "joined";
  })();
  const [joined] = await Promise.all([joins, levels]);
  if (joined === "userMissing") {
    return { kind: "waiting", reason: WAITING_FOR_LOGIN, retryMs: LOGIN_RECHECK_MS };
  }
  if (wish.admin) {
    return {
      kind: "done",
      detail: `${userId} is an admin: level ${ADMIN_LEVEL}, in the admin room`,
    };
  }
  // Kicked even when not joined: a pending invitation (a promotion's join cut short) would let
  // the ex-admin in; kicking it withdraws it.
  if (wish.everAdmin) {
    await kick(ctx.synapse, ctx.rooms.admin, userId, "No longer an admin in Deploy App");
  }
  return {
    kind: "done",
    detail: wish.member
      ? `${userId} is a member of the Space and public rooms`
      : `${userId} has no admin rights`,
  };
}

/** `level` for `userId` in every public room: the prepared write if it stuck, else a new one. */
async function _levels(
  ctx: ConvergeContext,
  userId: string,
  level: number | null,
  prepared: Prepared,
): Promise<void> {
  if (prepared.levels !== undefined && await prepared.levels) return;
  await Promise.all(PUBLIC_ROOMS.map((key) => ctx.levels.set(ctx.rooms[key], { userId, level })));
}

async function _revoke(
  ctx: ConvergeContext,
  userId: string,
  active: boolean,
  exists: boolean,
): Promise<ConvergeResult> {
  if (!exists) {
    return { kind: "done", detail: `${userId} has no Matrix account; nothing to deactivate` };
  }
  if (active) await deactivateUser(ctx.synapse, userId, true);
  // A revoked person keeps no power-level entry (the rooms' state stays bounded).
  await Promise.all(
    PUBLIC_ROOMS.map((key) => ctx.levels.set(ctx.rooms[key], { userId, level: null })),
  );
  // Synapse answers before it has parted the rooms; done only once it has. It usually takes
  // well under a second, so look a few times before handing the wish back to the queue.
  let rooms = await joinedRooms(ctx.synapse, userId);
  for (let i = 0; i < 10 && rooms.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
    rooms = await joinedRooms(ctx.synapse, userId);
  }
  if (rooms.length > 0) {
    return {
      kind: "waiting",
      reason: `Synapse is still removing ${userId} from ${rooms.length} rooms`,
      retryMs: 500,
    };
  }
  return { kind: "done", detail: `${userId} is deactivated and erased, and has left every room` };
}
