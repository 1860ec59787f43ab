/**
 * @module A worker round's look ahead. The people of a round whose plans set levels are looked at
 * and planned together (the first alone: it is the round's probe of Synapse), and their level
 * actions are written as one change per room before anyone's slower joins: a burst of promotions
 * is one power-level write per room, not one per person. Everyone else looks and plans at their
 * own turn, so what they act on is fresh.
 */
import type { RoomIds } from "../matrix/deployment.ts";
import type { PowerLevelWriter } from "../rooms/power_levels.ts";
import type { WishRecord } from "../store/wishes.ts";
import type { SynapseCaller } from "../synapse/http.ts";
import { look } from "./converge.ts";
import { levelledInRound, type Plan, planRound, type RoundEntry } from "./plan.ts";

/** People looked at once, at most (a round's first look goes alone). */
const LOOK_WIDTH = 16;

export interface AheadContext {
  /** Calls as the bot. */
  readonly synapse: SynapseCaller;
  readonly rooms: RoomIds;
  readonly levels: PowerLevelWriter;
  readonly now: () => number;
  /** Notes a failed look; true when Synapse serves nobody (the round then looks no further). */
  readonly noteOutage: (err: unknown) => boolean;
}

/** What the round decided for one person ahead of their turn. */
export interface Ahead {
  /** The wish's generation it was planned for. */
  readonly generation: number;
  /** When the person was looked at (ms since the epoch). */
  readonly at: number;
  readonly plan: Plan;
  /** The round's level writes by room: true once Synapse shows them, false if one failed. */
  readonly written: ReadonlyMap<string, Promise<boolean>>;
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
  const entries: Array<RoundEntry & { readonly at: number; readonly generation: number }> = [];
  let down = false;
  await _inBatches(records.filter(levelledInRound), LOOK_WIDTH, async (record) => {
    if (down || signal.aborted) return;
    try {
      const seen = await look(ctx.synapse, record.userId, record, record.appliedGeneration === 0);
      const { userId, generation } = record;
      entries.push({ userId, wish: record, seen, at: ctx.now(), generation });
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
    ahead.set(e.userId, { generation: e.generation, at: e.at, plan, written });
  }
  const writing = Promise.all(written.values()).then(() => {});
  return { ahead, failed, down, writing };
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
