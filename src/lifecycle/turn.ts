/**
 * @module One person's turn in a round (`round.ts`): one attempt — carry out what the round
 * planned, or look and plan afresh — and its outcome recorded in KV: applied, waiting (for a login,
 * for Synapse to part the rooms) or failed, with the next attempt after the backoff.
 */
import type { RoomIds } from "../matrix/deployment.ts";
import { type SynapseCaller, SynapseError } from "../synapse/http.ts";
import type { WishRecord, WishStore } from "../store/wishes.ts";
import type { Logger } from "../log/logger.ts";
import type { PowerLevelWriter } from "../rooms/power_levels.ts";
import { backoffMs } from "../util/sleep.ts";
import { carryOut, converge } from "./converge.ts";
import { loginRecheckMs } from "./login_watch.ts";
import type { OutageGate } from "./outage.ts";
import type { Plan } from "./plan.ts";

/** How long what a round looked at ahead may stand in for a look at the person's turn. */
const FRESH_MS = 10_000;

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

export interface TurnContext {
  readonly store: WishStore;
  /** Calls as the bot. */
  readonly bot: SynapseCaller;
  readonly levels: PowerLevelWriter;
  readonly log: Logger;
  /** Longest wait between retries. */
  readonly maxBackoffMs: number;
  readonly now: () => number;
  readonly outage: OutageGate;
  /** A turn's slot: at most the worker's concurrency act at once. */
  readonly slot: () => Promise<() => void>;
}

/** A person's turn: waits for a slot, then one attempt unless the worker stops or Synapse is down. */
export async function takeTurn(
  c: TurnContext,
  userId: string,
  rooms: RoomIds,
  ahead: Ahead | undefined,
  signal: AbortSignal,
): Promise<void> {
  const release = await c.slot();
  try {
    const paused = c.outage.pausedUntil();
    if (signal.aborted || (paused !== null && c.now() < paused)) return;
    await _attempt(c, userId, rooms, ahead);
  } finally {
    release();
  }
}

/** One attempt at `userId`'s pending wish: converge, then record the outcome in KV. */
async function _attempt(
  c: TurnContext,
  userId: string,
  rooms: RoomIds,
  ahead: Ahead | undefined,
): Promise<void> {
  const record = await c.store.get(userId);
  if (record === null || record.appliedGeneration >= record.generation) return;
  // The pending list this was picked from may be stale: an attempt that just ended has set a
  // later time, so this would repeat it at once.
  if (record.nextAttemptAt > c.now()) return;
  const generation = record.generation;
  const ctx = { bot: c.bot, rooms, levels: c.levels };
  try {
    // What the round planned, while it is this generation's and fresh; else look again.
    const result = ahead !== undefined && ahead.generation === generation &&
        c.now() - ahead.at < FRESH_MS
      ? await carryOut(ctx, userId, ahead.plan, ahead.written)
      : await converge(ctx, userId, record, { firstTime: record.appliedGeneration === 0 });
    c.outage.clear(); // Synapse answered
    if (result.kind === "done") {
      await c.store.markApplied(userId, generation);
      c.log.info("applied", {
        user_id: userId,
        action: record.lastAction,
        generation,
        detail: result.detail,
      });
      return;
    }
    // Waiting for a first login: the watch finds the account; each person's own look is a
    // safety net that backs off to once a day, so a thousand waiting cost next to nothing.
    const retryMs = result.on === "login" ? loginRecheckMs(record.attempts) : result.retryMs;
    await c.store.markRetry(userId, generation, {
      at: c.now() + retryMs,
      error: null,
      waitingFor: result.reason,
    });
    c.log.debug("waiting", { user_id: userId, reason: result.reason });
  } catch (err) {
    c.outage.note(err);
    await recordFailure(c, record, generation, err);
  }
}

/** Records a failed attempt: the error, and the next one after the backoff (or `retry_after`). */
export async function recordFailure(
  c: TurnContext,
  record: WishRecord,
  generation: number,
  err: unknown,
): Promise<void> {
  const userId = record.userId;
  const message = err instanceof Error ? err.message : String(err);
  const retryAfter = err instanceof SynapseError ? err.retryAfterMs : null;
  const delay = retryAfter ?? backoffMs(record.attempts, 1000, c.maxBackoffMs);
  await c.store.markRetry(userId, generation, {
    at: c.now() + delay,
    error: message,
    waitingFor: null,
  }).catch((kvErr) =>
    c.log.error("cannot record a failed attempt", { user_id: userId, error: kvErr })
  );
  c.log.warn("attempt failed; will retry", { user_id: userId, retry_in_ms: delay, error: message });
}
