/**
 * @module The lifecycle worker: converges Synapse to every pending wish in KV, at least once,
 * with bounded concurrency, capped backoff (honouring Synapse's `retry_after_ms`), across
 * outages and restarts. KV is the queue: nothing pending lives only in memory.
 */
import type { Logger } from "../log/logger.ts";
import type { RoomIds } from "../matrix/deployment.ts";
import { type SynapseCaller, SynapseError } from "../synapse/http.ts";
import type { WishStore } from "../store/wishes.ts";
import { getUser } from "../synapse/users.ts";
import { converge, type Prepared } from "./converge.ts";
import { createPowerLevelWriter, type PowerLevelWriter } from "../rooms/power_levels.ts";
import { PUBLIC_ROOMS } from "../rooms/spec.ts";
import { wantedLevel } from "./plan.ts";
import { backoffMs } from "../util/sleep.ts";
import { createLoginWatch, loginRecheckMs, WAITING_FOR_LOGIN } from "./login_watch.ts";

/** The bot as the worker sees it: calls as the bot, and the rooms once the bootstrap is done. */
export interface WorkerBot extends SynapseCaller {
  /** The deployment's rooms; `null` while the bootstrap runs (the worker waits). */
  current(): { readonly rooms: RoomIds } | null;
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
  /** The process's power-level serialiser; created here when absent. */
  readonly levels?: PowerLevelWriter;
  /**
   * How often new Matrix accounts are looked for while work is pending: one request each time
   * (10 a minute), however many people wait. @default 6000
   */
  readonly loginPollMs?: number;
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

export interface Worker {
  /** Something new is pending: look now rather than at the next poll. */
  wake(): void;
  /** True when more work is queued than runs at once: a new wish will not start right away. */
  saturated(): boolean;
  /**
   * Resolves true once `generation` of `userId` is applied; false as soon as an attempt at it
   * fails or has to wait, or after `timeoutMs`.
   */
  waitApplied(userId: string, generation: number, timeoutMs: number): Promise<boolean>;
  run(signal: AbortSignal): Promise<void>;
  pending(): Promise<PendingStatus>;
  levels(): PowerLevelWriter;
}

const POLL_MS = 1000;

export function createWorker(o: WorkerOptions): Worker {
  const concurrency = o.concurrency ?? 16;
  const maxBackoff = o.maxBackoffMs ?? 60_000;
  const inFlight = new Set<string>();
  const waiters = new Map<string, Array<{ generation: number; resolve: (ok: boolean) => void }>>();
  let wakeUp: (() => void) | null = null;
  const levels: PowerLevelWriter = o.levels ?? createPowerLevelWriter(o.bot);
  let lastPendingCount = 0;
  const loginWatch = createLoginWatch({ synapse: o.bot, store: o.store, log: o.log });
  // Synapse unreachable (or 5xx, 429): one backoff for Synapse, not one per person, so an outage
  // with many people pending is one probe per interval instead of a retry storm.
  let outage: { until: number; failures: number } | null = null;
  const loginPollMs = o.loginPollMs ?? 6000;
  let nextLoginPoll = 0;

  /** One look for new accounts, when it is time and someone waits; never fails the loop. */
  async function lookForLogins(): Promise<number> {
    if (lastPendingCount === 0 || Date.now() < nextLoginPoll) return 0;
    nextLoginPoll = Date.now() + loginPollMs;
    try {
      return await loginWatch.poll();
    } catch (err) {
      // Synapse down or slow: the next look (or the wish's own safety net) catches up.
      o.log.debug("cannot look for new Matrix accounts", { error: err });
      return 0;
    }
  }

  const wake = () => {
    wakeUp?.();
    wakeUp = null;
  };

  /** Tells whoever waits for `generation` (or older) of `userId` how the attempt ended. */
  function _settle(userId: string, generation: number, applied: boolean): void {
    const list = waiters.get(userId) ?? [];
    const keep = list.filter((w) => {
      if (w.generation <= generation) w.resolve(applied);
      return w.generation > generation;
    });
    if (keep.length > 0) waiters.set(userId, keep);
    else waiters.delete(userId);
  }

  async function process(userId: string, rooms: RoomIds): Promise<void> {
    const record = await o.store.get(userId);
    if (record === null || record.appliedGeneration >= record.generation) return;
    // The pending list this was picked from may be stale: an attempt that just ended has set
    // a later time, so this would repeat it at once.
    if (record.nextAttemptAt > Date.now()) return;
    const generation = record.generation;
    try {
      const result = await converge(
        { synapse: o.bot, rooms, levels },
        userId,
        record,
        { ..._takePrepared(userId, generation), firstTime: record.appliedGeneration === 0 },
      );
      outage = null; // Synapse answered
      if (result.kind === "done") {
        await o.store.markApplied(userId, generation);
        _settle(userId, generation, true);
        o.log.info("applied", {
          user_id: userId,
          action: record.lastAction,
          generation,
          detail: result.detail,
        });
      } else {
        // Waiting for a first login: the watch finds the account; each person's own look is a
        // safety net that backs off to once a day, so a thousand waiting cost next to nothing.
        const retryMs = result.reason === WAITING_FOR_LOGIN
          ? loginRecheckMs(record.attempts)
          : result.retryMs;
        await o.store.markRetry(userId, generation, {
          at: Date.now() + retryMs,
          error: null,
          waitingFor: result.reason,
        });
        _settle(userId, generation, false);
        o.log.debug("waiting", { user_id: userId, reason: result.reason });
      }
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const retryAfter = err instanceof SynapseError ? err.retryAfterMs : null;
      noteOutage(err);
      const delay = retryAfter ?? backoffMs(record.attempts, 1000, maxBackoff);
      await o.store.markRetry(userId, generation, {
        at: Date.now() + delay,
        error: message,
        waitingFor: null,
      })
        .catch((kvErr) =>
          o.log.error("cannot record a failed attempt", { user_id: userId, error: kvErr })
        );
      _settle(userId, generation, false);
      o.log.warn("attempt failed; will retry", {
        user_id: userId,
        retry_in_ms: delay,
        error: message,
      });
    }
  }

  /** Synapse could not serve anyone: pause all work for one backoff (true), or not (false). */
  function noteOutage(err: unknown): boolean {
    if (!_unavailable(err)) return false;
    const failures = (outage?.failures ?? 0) + 1;
    const retryAfter = (err as SynapseError).retryAfterMs;
    const wait = retryAfter ?? backoffMs(failures - 1, 1000, maxBackoff);
    outage = { until: Date.now() + wait, failures };
    if (failures === 1) {
      o.log.warn("Synapse is unavailable; pausing all lifecycle work", {
        error: (err as Error).message,
      });
    }
    return true;
  }

  /**
   * Hands the power-level part of every due wish to the serialiser at once, before the slower
   * joins: a burst of promotions then costs one power-level write per room, not one per person.
   * Converging repeats it later as a no-op. Only accounts that exist get a level: entries for
   * people who never logged in would grow `m.room.power_levels` until Synapse refuses it.
   */
  const primed = new Map<string, number>();
  // Writes primeLevels handed off; `run` waits for them before it returns.
  const primedWrites = new Set<Promise<unknown>>();
  // What priming learnt, for converging the same generation right after (not older than 10 s).
  const prepared = new Map<string, Prepared & { generation: number; at: number }>();
  function _takePrepared(userId: string, generation: number): Prepared {
    const p = prepared.get(userId);
    prepared.delete(userId);
    return p !== undefined && p.generation === generation && Date.now() - p.at < 10_000 ? p : {};
  }
  async function primeLevels(
    due: ReadonlyArray<{ userId: string; generation: number }>,
    rooms: RoomIds,
    signal: AbortSignal,
  ) {
    const writer = levels;
    const records = await Promise.all(due.map((p) => o.store.get(p.userId).catch(() => null)));
    const candidates = records.flatMap((record, i) => {
      const p = due[i]!;
      primed.set(p.userId, p.generation);
      // A revocation's levels go with its deactivation; a wish with no level has none to prime.
      const wanted = record === null || record.revoked ? null : wantedLevel(record);
      return wanted === null ? [] : [{ p, level: wanted.level }];
    });
    // The first look alone: if Synapse cannot answer it, nobody else is looked up this round.
    let down = false;
    const people = await _inBatches(candidates, 16, async (c) => {
      if (down || signal.aborted) return null;
      const user = await getUser(o.bot, c.p.userId).catch((err) => {
        if (noteOutage(err)) down = true;
        return null;
      });
      // Missing, deactivated or a server admin (not a person): converging decides, not priming.
      return user === null || user.deactivated || user.admin ? null : { ...c, user };
    });
    for (const c of people) {
      if (c === null) continue;
      const { p, level, user } = c;
      const write = Promise.all(
        PUBLIC_ROOMS.map((key) => writer.set(rooms[key], { userId: p.userId, level })),
      ).then(() => true, () => false);
      primedWrites.add(write);
      write.finally(() => primedWrites.delete(write));
      prepared.set(p.userId, { generation: p.generation, at: Date.now(), user, levels: write });
    }
    if (primed.size > 10_000) primed.clear();
    for (const [userId, p] of prepared) if (Date.now() - p.at >= 10_000) prepared.delete(userId);
  }

  async function run(signal: AbortSignal): Promise<void> {
    const tasks = new Set<Promise<void>>();
    signal.addEventListener("abort", wake, { once: true });
    while (!signal.aborted) {
      const rooms = o.bot.current()?.rooms ?? null;
      let sleepMs = POLL_MS;
      if (rooms !== null) {
        const now = Date.now();
        const pending = await o.store.listPending().catch((err) => {
          o.log.error("cannot list pending work", { error: err });
          return [];
        });
        lastPendingCount = pending.length;
        // Someone appeared: their wishes are due now; read the index again to see them.
        if (await lookForLogins() > 0) {
          const again = await o.store.listPending().catch(() => pending);
          pending.splice(0, pending.length, ...again);
        }
        let due = pending.filter((p) => p.nextAttemptAt <= now && !inFlight.has(p.userId));
        if (outage !== null) {
          // Paused: after the backoff, one person's attempt probes Synapse for everyone.
          due = now < outage.until || inFlight.size > 0 ? [] : due.slice(0, 1);
          if (now < outage.until) sleepMs = Math.min(sleepMs, outage.until - now);
        }
        const unprimed = due.filter((p) => primed.get(p.userId) !== p.generation);
        if (unprimed.length > 1 && !signal.aborted) await primeLevels(unprimed, rooms, signal);
        // Priming may have found Synapse down: then this round starts nothing.
        if (outage !== null && Date.now() < outage.until) due = [];
        for (const p of due) {
          // An abort while this round awaited KV or Synapse: start nothing more.
          if (inFlight.size >= concurrency || signal.aborted) break;
          inFlight.add(p.userId);
          const task = process(p.userId, rooms).finally(() => {
            inFlight.delete(p.userId);
            tasks.delete(task);
            wake();
          });
          tasks.add(task);
        }
        const later = pending.filter((p) => p.nextAttemptAt > now).map((p) =>
          p.nextAttemptAt - now
        );
        if (later.length > 0) sleepMs = Math.min(sleepMs, Math.max(10, Math.min(...later)));
        if (pending.length > 0) {
          sleepMs = Math.min(sleepMs, Math.max(10, nextLoginPoll - Date.now()));
        }
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, sleepMs);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        wakeUp = done;
      });
    }
    await Promise.allSettled([...tasks, ...primedWrites]);
    for (const [, list] of waiters) for (const w of list) w.resolve(false);
    waiters.clear();
  }

  return {
    wake,
    saturated: () => inFlight.size >= concurrency || lastPendingCount > concurrency,
    waitApplied(userId, generation, timeoutMs) {
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          const list = waiters.get(userId)?.filter((w) => w.resolve !== finish) ?? [];
          if (list.length > 0) waiters.set(userId, list);
          else waiters.delete(userId);
          resolve(false);
        }, timeoutMs);
        function finish(ok: boolean) {
          clearTimeout(timer);
          resolve(ok);
        }
        const list = waiters.get(userId) ?? [];
        list.push({ generation, resolve: finish });
        waiters.set(userId, list);
      });
    },
    run,
    async pending() {
      const entries = await o.store.listPending();
      const records = (await Promise.all(entries.slice(0, 100).map((e) => o.store.get(e.userId))))
        .filter((r) => r !== null);
      const since = records.map((r) => r.pendingSince).filter((s) => s !== null).map((s) =>
        Date.parse(s)
      );
      return {
        count: entries.length,
        oldestAgeSeconds: since.length === 0
          ? null
          : Math.round((Date.now() - Math.min(...since)) / 1000),
        users: records.map((r) => ({
          userId: r.userId,
          pendingSince: r.pendingSince === null ? null : new Date(r.pendingSince),
          attempts: r.attempts,
          lastError: r.lastError,
          waitingFor: r.waitingFor,
        })),
      };
    },
    levels: () => levels,
  };
}

/** `fn` over `items`: the first alone, then at most `size` at a time; results in order. */
async function _inBatches<T, R>(
  items: readonly T[],
  size: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  if (items.length === 0) return [];
  const out: R[] = [await fn(items[0]!)];
  for (let i = 1; i < items.length; i += size) {
    out.push(...await Promise.all(items.slice(i, i + size).map(fn)));
  }
  return out;
}

/** Synapse could not serve anyone: unreachable, overloaded (5xx) or rate-limiting (429). */
function _unavailable(err: unknown): boolean {
  return err instanceof SynapseError &&
    (err.status === 0 || err.status >= 500 || err.status === 429);
}
