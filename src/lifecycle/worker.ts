/**
 * @module The lifecycle worker: converges Synapse to every pending wish in KV, at least once,
 * with bounded concurrency, capped backoff (honouring Synapse's `retry_after_ms`), across
 * outages and restarts. KV is the queue: nothing pending lives only in memory.
 */
import type { Logger } from "../log/logger.ts";
import type { RoomIds } from "../matrix/deployment.ts";
import { type SynapseCaller, SynapseError } from "../synapse/http.ts";
import type { WishRecord, WishStore } from "../store/wishes.ts";
import { carryOut, converge } from "./converge.ts";
import type { PowerLevelWriter } from "../rooms/power_levels.ts";
import { backoffMs } from "../util/sleep.ts";
import { createLoginWatch, loginRecheckMs } from "./login_watch.ts";
import { createOutageGate, type OutageGate } from "./outage.ts";
import { type Ahead, lookAhead } from "./round.ts";
import { semaphore } from "../util/semaphore.ts";

/** The bot as the worker sees it: calls as the bot, and the rooms once the bootstrap is done. */
export interface WorkerBot extends SynapseCaller {
  /** The deployment's rooms; `null` while the bootstrap runs (the worker waits). */
  current(): { readonly rooms: RoomIds } | null;
  /** Resolves once the rooms are there (`null` when `signal` aborts first). */
  whenReady(signal: AbortSignal): Promise<{ readonly rooms: RoomIds } | null>;
}

export interface WorkerOptions {
  readonly store: WishStore;
  /** The bot's session: it owns the token and handles a rejected one. */
  readonly bot: WorkerBot;
  readonly log: Logger;
  /** People converged at once. @default 16 */
  readonly concurrency?: number;
  /** Longest wait between retries. @default 60000 */
  readonly maxBackoffMs?: number;
  /** The process's power-level writer (one per process: it queues each room's writes). */
  readonly levels: PowerLevelWriter;
  /**
   * How often new Matrix accounts are looked for while work is pending: one request each time
   * (10 a minute), however many people wait. @default 6000
   */
  readonly loginPollMs?: number;
  /** The time in ms since the epoch. @default Date.now */
  readonly now?: () => number;
}

export interface PendingStatus {
  readonly count: number;
  readonly oldestAgeSeconds: number | null;
  /** The first 100 pending people. */
  readonly users: ReadonlyArray<{
    readonly userId: string;
    readonly pendingSince: Date | null;
    readonly attempts: number;
    readonly lastError: string | null;
    readonly waitingFor: string | null;
  }>;
}

/** What the durable lifecycle needs of the worker: a nudge. */
export interface WorkerQueue {
  /** Something new is pending: look now rather than at the next poll. */
  wake(): void;
}

export interface Worker extends WorkerQueue {
  run(signal: AbortSignal): Promise<void>;
  pending(): Promise<PendingStatus>;
}

const POLL_MS = 1000;
/** People taken into rounds and not yet through their turn, at most. */
const MAX_IN_FLIGHT = 256;
/** How long what a round looked at ahead may stand in for a look at the person's turn. */
const FRESH_MS = 10_000;

export function createWorker(o: WorkerOptions): Worker {
  const concurrency = o.concurrency ?? 16;
  const now = o.now ?? Date.now;
  const inFlight = new Set<string>();
  const outage = createOutageGate({ maxBackoffMs: o.maxBackoffMs ?? 60_000, now, log: o.log });
  const logins = _loginLooks(o, now);
  const turnContext = { ...o, now, outage, slot: semaphore(concurrency) };
  let wakeUp: (() => void) | null = null;

  const wake = () => {
    wakeUp?.();
    wakeUp = null;
  };

  /** Takes what is due into a round (within the outage gate); how long to sleep. */
  async function round(rooms: RoomIds, tasks: Set<Promise<void>>, signal: AbortSignal) {
    const at = now();
    let pending = await o.store.listPending().catch((err) => {
      o.log.error("cannot list pending work", { error: err });
      return [];
    });
    // Someone appeared: their wishes are due now; read the index again to see them.
    if (await logins.look(pending.length) > 0) {
      pending = await o.store.listPending().catch(() => pending);
    }
    let due = pending.filter((p) => p.nextAttemptAt <= at && !inFlight.has(p.userId));
    let sleepMs = POLL_MS;
    const paused = outage.pausedUntil();
    if (paused !== null) {
      // Paused: after the backoff, one person's attempt probes Synapse for everyone.
      due = at < paused || inFlight.size > 0 ? [] : due.slice(0, 1);
      if (at < paused) sleepMs = Math.min(sleepMs, paused - at);
    }
    due = due.slice(0, Math.max(0, MAX_IN_FLIGHT - inFlight.size));
    // An abort while this round awaited KV or Synapse: start nothing.
    if (due.length > 0 && !signal.aborted) {
      for (const p of due) inFlight.add(p.userId);
      const task = _round(turnContext, rooms, due.map((p) => p.userId), inFlight, signal)
        .finally(() => {
          tasks.delete(task);
          wake();
        });
      tasks.add(task);
    }
    const later = pending.filter((p) => p.nextAttemptAt > at).map((p) => p.nextAttemptAt - at);
    if (later.length > 0) sleepMs = Math.min(sleepMs, Math.max(10, Math.min(...later)));
    if (pending.length > 0) sleepMs = Math.min(sleepMs, Math.max(10, logins.nextAt() - now()));
    return sleepMs;
  }

  async function run(signal: AbortSignal): Promise<void> {
    const tasks = new Set<Promise<void>>();
    signal.addEventListener("abort", wake, { once: true });
    while (!signal.aborted) {
      const rooms = o.bot.current()?.rooms ?? null;
      if (rooms === null) {
        await o.bot.whenReady(signal); // the bootstrap (again, after a rejected token)
        continue;
      }
      const sleepMs = await round(rooms, tasks, signal);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, sleepMs);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        wakeUp = done;
      });
    }
    while (tasks.size > 0) await Promise.allSettled([...tasks]);
  }

  return {
    wake,
    run,
    pending: () => pendingStatus(o.store, now()),
  };
}

/** Looks for new Matrix accounts while work is pending, at most once per `loginPollMs`. */
function _loginLooks(o: WorkerOptions, now: () => number) {
  const loginWatch = createLoginWatch({ synapse: o.bot, store: o.store, log: o.log });
  const every = o.loginPollMs ?? 6000;
  let next = 0;
  return {
    nextAt: () => next,
    /** One look when it is time and someone waits; never fails the loop. */
    async look(pendingCount: number): Promise<number> {
      if (pendingCount === 0 || now() < next) return 0;
      next = now() + every;
      try {
        return await loginWatch.poll();
      } catch (err) {
        // Synapse down or slow: the next look (or the wish's own safety net) catches up.
        o.log.debug("cannot look for new Matrix accounts", { error: err });
        return 0;
      }
    },
  };
}

interface TurnContext extends WorkerOptions {
  readonly now: () => number;
  readonly outage: OutageGate;
  /** A turn's slot: at most `concurrency` people act at once. */
  readonly slot: () => Promise<() => void>;
}

/**
 * One round: what is decided ahead for the people taken in (their levels written together), then
 * each person's turn. Everyone leaves `inFlight` once their part of it has ended.
 */
async function _round(
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
    { synapse: c.bot, rooms, levels: c.levels, now: c.now, noteOutage: c.outage.note },
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
  const ctx = { synapse: c.bot, rooms, levels: c.levels };
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
  const delay = retryAfter ?? backoffMs(record.attempts, 1000, c.maxBackoffMs ?? 60_000);
  await c.store.markRetry(userId, generation, {
    at: c.now() + delay,
    error: message,
    waitingFor: null,
  }).catch((kvErr) =>
    c.log.error("cannot record a failed attempt", { user_id: userId, error: kvErr })
  );
  c.log.warn("attempt failed; will retry", { user_id: userId, retry_in_ms: delay, error: message });
}

/** What `status` shows of the pending work: the count, the oldest age, the first 100 people. */
export async function pendingStatus(store: WishStore, now: number): Promise<PendingStatus> {
  const entries = await store.listPending();
  const records = (await Promise.all(entries.slice(0, 100).map((e) => store.get(e.userId))))
    .filter((r) => r !== null);
  const since = records.map((r) => r.pendingSince).filter((s) => s !== null).map((s) =>
    Date.parse(s)
  );
  return {
    count: entries.length,
    oldestAgeSeconds: since.length === 0 ? null : Math.round((now - Math.min(...since)) / 1000),
    users: records.map((r) => ({
      userId: r.userId,
      pendingSince: r.pendingSince === null ? null : new Date(r.pendingSince),
      attempts: r.attempts,
      lastError: r.lastError,
      waitingFor: r.waitingFor,
    })),
  };
}
