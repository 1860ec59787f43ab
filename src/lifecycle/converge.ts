/**
 * @module The executor: brings Synapse to one person's wish — looks at what `plan()` needs,
 * plans, and runs the plan's actions. Every action tolerates "already so", so repeating it after a crash or a
 * duplicate callback changes nothing.
 */
import type { SynapseCaller } from "../synapse/http.ts";
import { adminJoin, joinedRooms, kick } from "../synapse/membership.ts";
import { deactivateUser, getUser } from "../synapse/users.ts";
import type { RoomIds } from "../matrix/deployment.ts";
import type { PowerLevelWriter } from "../rooms/power_levels.ts";
import type { Wish } from "./wish.ts";
import { LOGIN_RECHECK_MS, WAITING_FOR_LOGIN } from "./login_watch.ts";
import { type Action, needsJoinedRooms, type Plan, plan, type Seen } from "./plan.ts";

export interface ConvergeContext {
  /** Calls as the bot. */
  readonly bot: SynapseCaller;
  readonly rooms: RoomIds;
  readonly levels: PowerLevelWriter;
}

export type ConvergeResult =
  | { readonly kind: "done"; readonly detail: string }
  /** Not an error: something has to happen first (a login, Synapse parting rooms). */
  | {
    readonly kind: "waiting";
    readonly on: "login" | "parting";
    /** What it waits for, said to a person (status, logs). */
    readonly reason: string;
    readonly retryMs: number;
  };

/**
 * Looks, plans and runs the plan for one person. `firstTime`: nothing of theirs was applied
 * before, so they are in none of the rooms and the joins go ahead without asking where they are
 * (a join that finds them there is still fine).
 */
export async function converge(
  ctx: ConvergeContext,
  userId: string,
  wish: Wish,
  options: { readonly firstTime?: boolean } = {},
): Promise<ConvergeResult> {
  const seen = await look(ctx.bot, userId, wish, options.firstTime ?? false);
  return await carryOut(ctx, userId, plan(userId, wish, ctx.rooms, seen));
}

/** What `plan()` needs to know of one person: the account, and their rooms when it matters. */
export async function look(
  synapse: SynapseCaller,
  userId: string,
  wish: Wish,
  firstTime: boolean,
): Promise<Seen> {
  const account = await getUser(synapse, userId);
  // One look at where the person is, then only the joins that are missing: a promotion of a
  // member is then one join, not five joins and five membership checks.
  const joined = needsJoinedRooms(wish, account, firstTime)
    ? new Set(await joinedRooms(synapse, userId))
    : null;
  return { account, joined };
}

/**
 * Runs `decided`. `written`: the level writes a round already made for this person, by room
 * (true once Synapse showed them); a room not there, or whose write failed, is written here.
 */
export async function carryOut(
  ctx: ConvergeContext,
  userId: string,
  decided: Plan,
  written: ReadonlyMap<string, Promise<boolean>> = new Map(),
): Promise<ConvergeResult> {
  if (decided.kind === "done") return decided;
  if (decided.kind === "wait") {
    return { kind: "waiting", on: decided.on, reason: decided.reason, retryMs: decided.retryMs };
  }
  const outcome = await execute(ctx, userId, decided.actions, written);
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
  written: ReadonlyMap<string, Promise<boolean>> = new Map(),
): Promise<ConvergeResult | null> {
  if (actions.some((a) => a.kind === "deactivate")) {
    await deactivateUser(ctx.bot, userId, true);
  }
  const levels = _setLevels(ctx, userId, actions, written);
  const joins = (async () => {
    for (const a of actions) {
      if (a.kind !== "join") continue;
      if (await adminJoin(ctx.bot, a.roomId, userId) === "userMissing") return "userMissing";
    }
    return "joined";
  })();
  const [joined] = await Promise.all([joins, levels]);
  if (joined === "userMissing") {
    return { kind: "waiting", on: "login", reason: WAITING_FOR_LOGIN, retryMs: LOGIN_RECHECK_MS };
  }
  for (const a of actions) {
    if (a.kind === "kick") await kick(ctx.bot, a.roomId, userId, a.reason);
  }
  if (actions.some((a) => a.kind === "confirmParted")) return await _confirmParted(ctx, userId);
  return null;
}

/** The plan's level writes not already made by the round, as one write per room. */
async function _setLevels(
  ctx: ConvergeContext,
  userId: string,
  actions: readonly Action[],
  written: ReadonlyMap<string, Promise<boolean>>,
): Promise<void> {
  await Promise.all(actions.map(async (a) => {
    if (a.kind !== "setLevel" || await written.get(a.roomId) === true) return;
    await ctx.levels.write(a.roomId, [{ userId, level: a.level }]);
  }));
}

/**
 * Synapse answers a deactivation before it has parted the rooms; it usually takes well under a
 * second, so look a few times before handing the wish back to the queue.
 */
async function _confirmParted(
  ctx: ConvergeContext,
  userId: string,
): Promise<ConvergeResult | null> {
  let rooms = await joinedRooms(ctx.bot, userId);
  for (let i = 0; i < 10 && rooms.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
    rooms = await joinedRooms(ctx.bot, userId);
  }
  if (rooms.length === 0) return null;
  return {
    kind: "waiting",
    on: "parting",
    reason: `Synapse is still removing ${userId} from ${rooms.length} rooms`,
    retryMs: 500,
  };
}
