/**
 * @module A worker round, for the people the scheduler (`worker.ts`) took in. First the look
 * ahead: those whose plans set levels are looked at and planned together (the first alone: it is
 * the round's probe of Synapse), and their level actions written as one change per room before
 * anyone's slower joins — a burst of promotions is one power-level write per room, not one per
 * person. Then each person's turn (`turn.ts`, at most the worker's concurrency at once) carries
 * out the rest; everyone else looks and plans at their own turn, so what they act on is fresh.
 */
import type { RoomIds } from "../matrix/deployment.ts";
import type { PowerLevelWriter } from "../rooms/power_levels.ts";
import type { WishRecord } from "../store/wishes.ts";
import type { SynapseCaller } from "../synapse/http.ts";
import { look } from "./converge.ts";
import { levelledInRound, planRound, type RoundEntry } from "./plan.ts";
import { type Ahead, recordFailure, takeTurn, type TurnContext } from "./turn.ts";

/** People looked at once, at most (a round's first look goes alone). */
const LOOK_WIDTH = 16;

export interface AheadContext {
  /** Calls as the bot. */
  readonly bot: SynapseCaller;
  readonly rooms: RoomIds;
  readonly levels: PowerLevelWriter;
  readonly now: () => number;
  /** Notes a failed look; true when Synapse serves nobody (the round then looks no further). */
  readonly noteOutage: (err: unknown) => boolean;
}

export interface LookAhead {
  readonly ahead: ReadonlyMap<string, Ahead>;
  /** People whose look failed, with the error: a failed attempt each. */
  readonly failed: ReadonlyMap<string, unknown>;
  /** A look found Synapse serving nobody: the round starts nothing more. */
  readonly down: boolean;
  /** Settles when every level write of the round has ended. */
  readonly writing: Promise<void>;
}

/** Looks at and plans the `records` whose plans set levels, and writes those levels per room. */
export async function lookAhead(
  ctx: AheadContext,
  records: readonly WishRecord[],
  signal: AbortSignal,
): Promise<LookAhead> {
  const failed = new Map<string, unknown>();
  const entries: Array<RoundEntry & { readonly wish: WishRecord; readonly at: number }> = [];
  let down = false;
  await _inBatches(records.filter(levelledInRound), LOOK_WIDTH, async (record) => {
    if (down || signal.aborted) return;
    try {
      const seen = await look(ctx.bot, record.userId, record, record.appliedGeneration === 0);
      entries.push({ userId: record.userId, wish: record, seen, at: ctx.now() });
    } catch (err) {
      failed.set(record.userId, err);
      if (ctx.noteOutage(err)) down = true;
    }
  });
  const round = planRound(entries, ctx.rooms);
  const written = new Map<string, Promise<boolean>>();
  for (const [roomId, changes] of round.levels) {
    const write = ctx.levels.write(
      roomId,
      [...changes].map(([userId, level]) => ({ userId, level })),
    );
    written.set(roomId, write.then(() => true, () => false));
  }
  const ahead = new Map<string, Ahead>();
  for (const e of entries) {
    const plan = round.plans.get(e.userId)!;
    ahead.set(e.userId, { generation: e.wish.generation, at: e.at, plan, written });
  }
  const writing = Promise.all(written.values()).then(() => {});
  return { ahead, failed, down, writing };
}

/**
 * One round: what is decided ahead for the people taken in (their levels written together), then
 * each person's turn. Everyone leaves `inFlight` once their part of it has ended.
 */
export async function runRound(
  c: TurnContext,
  rooms: RoomIds,
  userIds: readonly string[],
  inFlight: Set<string>,
  signal: AbortSignal,
): Promise<void> {
  // A record that cannot be read, or is applied by now, leaves the round (a later one retries).
  const read = await Promise.all(userIds.map((u) => c.store.get(u).catch(() => null)));
  const records = read.filter((r): r is WishRecord =>
    r !== null && r.appliedGeneration < r.generation
  );
  const taken = new Set(records.map((r) => r.userId));
  for (const u of userIds) if (!taken.has(u)) inFlight.delete(u);
  const ahead = await lookAhead(
    { bot: c.bot, rooms, levels: c.levels, now: c.now, noteOutage: c.outage.note },
    records,
    signal,
  );
  const turns = records.map(async (record) => {
    const { userId, generation } = record;
    try {
      const failed = ahead.failed.get(userId);
      if (failed !== undefined) await recordFailure(c, record, generation, failed);
      else if (!ahead.down) await takeTurn(c, userId, rooms, ahead.ahead.get(userId), signal);
    } finally {
      inFlight.delete(userId);
    }
  });
  await Promise.all([...turns, ahead.writing]);
}

/** `fn` over `items`: the first alone, then at most `size` at a time. */
async function _inBatches<T>(
  items: readonly T[],
  size: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  if (items.length === 0) return;
  await fn(items[0]!);
  for (let i = 1; i < items.length; i += size) {
    await Promise.all(items.slice(i, i + size).map(fn));
  }
}
