/**
 * @module The lifecycle worker: converges Synapse to every pending wish in KV, at least once,
 * with bounded concurrency, capped backoff (honouring Synapse's `retry_after_ms`), across
 * outages and restarts. KV is the queue: nothing pending lives only in memory.
 */
import type { Logger } from "../log/logger.ts";
import type { RoomIds } from "../matrix/deployment.ts";
import type { SynapseCaller } from "../synapse/http.ts";
import type { WishStore } from "../store/wishes.ts";
import type { PowerLevelWriter } from "../rooms/power_levels.ts";
import { createLoginWatch } from "./login_watch.ts";
import { createOutageGate } from "./outage.ts";
import { runRound } from "./round.ts";
import type { TurnContext } from "./turn.ts";
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

export function createWorker(o: WorkerOptions): Worker {
  const concurrency = o.concurrency ?? 16;
  const now = o.now ?? Date.now;
  const inFlight = new Set<string>();
  const maxBackoffMs = o.maxBackoffMs ?? 60_000;
  const outage = createOutageGate({ maxBackoffMs, now, log: o.log });
  const logins = _loginLooks(o, now);
  const turnContext: TurnContext = {
    store: o.store,
    bot: o.bot,
    levels: o.levels,
    log: o.log,
    maxBackoffMs,
    now,
    outage,
    slot: semaphore(concurrency),
  };
  let wakeUp: (() => void) | null = null;
  /** A wake came while a round ran: the next round starts within 10 ms, not after the sleep. */
  let woken = false;

  const wake = () => {
    woken = true;
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
      const task = runRound(turnContext, rooms, due.map((p) => p.userId), inFlight, signal)
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
      woken = false;
      const sleepMs = await round(rooms, tasks, signal);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, woken ? Math.min(sleepMs, 10) : sleepMs);
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
  const loginWatch = createLoginWatch({ synapse: o.bot, store: o.store, log: o.log, now });
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
