/**
 * @module Brings Synapse to one person's wish: looks at what `plan()` needs, plans, and runs the
 * plan's actions. Every action tolerates "already so", so repeating it after a crash or a
 * duplicate callback changes nothing.
 */
import type { SynapseCaller } from "../synapse/http.ts";
import { adminJoin, joinedRooms, kick } from "../synapse/membership.ts";
import { type AdminUser, deactivateUser, getUser } from "../synapse/users.ts";
import type { RoomIds } from "../matrix/deployment.ts";
import type { PowerLevelWriter } from "../rooms/power_levels.ts";
import type { Wish } from "./wish.ts";
import { LOGIN_RECHECK_MS, WAITING_FOR_LOGIN } from "./login_watch.ts";
import { type Action, needsJoinedRooms, plan } from "./plan.ts";

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
  const account = prepared.user ?? await getUser(ctx.synapse, userId);
  // One look at where the person is, then only the joins that are missing: a promotion of a
  // member is then one join, not five joins and five membership checks.
  const joined = needsJoinedRooms(wish, account, prepared.firstTime ?? false)
    ? new Set(await joinedRooms(ctx.synapse, userId))
    : null;
  const decided = plan(userId, wish, ctx.rooms, { account, joined });
  if (decided.kind === "done") return decided;
  if (decided.kind === "wait") {
    return { kind: "waiting", reason: decided.reason, retryMs: decided.retryMs };
  }
  const outcome = await execute(ctx, userId, decided.actions, prepared);
  return outcome ?? { kind: "done", detail: decided.detail };
}

/**
 * Runs a plan's actions: a deactivation first; then the level writes, handed to the serialiser
 * alongside the joins (which run in order) so that people converging together meet in one
 * power-level write; then kicks; then the wait for Synapse to part a revoked person's rooms.
 * Returns why the plan could not finish, or `null` when every action held.
 */
export async function execute(
  ctx: ConvergeContext,
  userId: string,
  actions: readonly Action[],
  prepared: Prepared = {},
): Promise<ConvergeResult | null> {
  if (actions.some((a) => a.kind === "deactivate")) {
    await deactivateUser(ctx.synapse, userId, true);
  }
  const levels = _setLevels(ctx, userId, actions, prepared);
  const joins = (async () => {
    for (const a of actions) {
      if (a.kind !== "join") continue;
      if (await adminJoin(ctx.synapse, a.roomId, userId) === "userMissing") return "userMissing";
    }
    return "joined";
  })();
  const [joined] = await Promise.all([joins, levels]);
  if (joined === "userMissing") {
    return { kind: "waiting", reason: WAITING_FOR_LOGIN, retryMs: LOGIN_RECHECK_MS };
  }
  for (const a of actions) {
    if (a.kind === "kick") await kick(ctx.synapse, a.roomId, userId, a.reason);
  }
  if (actions.some((a) => a.kind === "confirmParted")) return await _confirmParted(ctx, userId);
  return null;
}

/** The plan's level writes: none when priming already handed the same ones over and they held. */
async function _setLevels(
  ctx: ConvergeContext,
  userId: string,
  actions: readonly Action[],
  prepared: Prepared,
): Promise<void> {
  const writes = actions.flatMap((a) => a.kind === "setLevel" ? [a] : []);
  if (writes.length === 0) return;
  if (prepared.levels !== undefined && await prepared.levels) return;
  await Promise.all(writes.map((a) => ctx.levels.set(a.roomId, { userId, level: a.level })));
}

/**
 * Synapse answers a deactivation before it has parted the rooms; it usually takes well under a
 * second, so look a few times before handing the wish back to the queue.
 */
async function _confirmParted(
  ctx: ConvergeContext,
  userId: string,
): Promise<ConvergeResult | null> {
  let rooms = await joinedRooms(ctx.synapse, userId);
  for (let i = 0; i < 10 && rooms.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
    rooms = await joinedRooms(ctx.synapse, userId);
  }
  if (rooms.length === 0) return null;
  return {
    kind: "waiting",
    reason: `Synapse is still removing ${userId} from ${rooms.length} rooms`,
    retryMs: 500,
  };
}
