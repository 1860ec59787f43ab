/**
 * @module A round and each person's turn in it: what the round looks at and plans ahead (their
 * levels written together), then each person's attempt — carry out the plan, or look and plan
 * afresh — and its outcome recorded in KV: applied, waiting (for a login, for Synapse to part the
 * rooms) or failed with the next attempt after the backoff.
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
import { type Ahead, lookAhead } from "./round.ts";

/** How long what a round looked at ahead may stand in for a look at the person's turn. */
const FRESH_MS = 10_000;

export interface TurnContext {
  readonly store: WishStore;
  /** Calls as the bot. */
  readonly synapse: SynapseCaller;
  readonly levels: PowerLevelWriter;
  readonly log: Logger;
  /** Longest wait between retries. */
  readonly maxBackoffMs: number;
  readonly now: () => number;
  readonly outage: OutageGate;
  /** A turn's slot: at most the worker's concurrency act at once. */
  readonly slot: () => Promise<() => void>;
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
  const records = (await Promise.all(userIds.map((u) => c.store.get(u).catch(() => null))))
    .filter((r) => r !== null && r.appliedGeneration < r.generation);
  const taken = new Set(records.map((r) => r!.userId));
  for (const u of userIds) if (!taken.has(u)) inFlight.delete(u);
  const ahead = await lookAhead(
    { synapse: c.synapse, rooms, levels: c.levels, now: c.now, noteOutage: c.outage.note },
    records as WishRecord[],
    signal,
  );
  const turns = records.map(async (record) => {
    const { userId, generation } = record!;
    try {
      const failed = ahead.failed.get(userId);
      if (failed !== undefined) await _failed(c, record!, generation, failed);
      else if (!ahead.down) await _turn(c, userId, rooms, ahead.ahead.get(userId), signal);
    } finally {
      inFlight.delete(userId);
    }
  });
  await Promise.all([...turns, ahead.writing]);
}

/** A person's turn: waits for a slot, then one attempt unless the worker stops or Synapse is down. */
async function _turn(
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
  const ctx = { synapse: c.synapse, rooms, levels: c.levels };
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
    await _failed(c, record, generation, err);
  }
}

/** Records a failed attempt: the error, and the next one after the backoff (or `retry_after`). */
async function _failed(
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
