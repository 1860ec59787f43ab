/**
 * @module The supervisor of the service's background tasks: each runs until the service stops;
 * a task that fails is logged, counted and started again after a capped backoff — never
 * swallowed, never left dead. A periodic task's failed run is logged and counted the same way.
 */
import type { Logger } from "../log/logger.ts";
import type { TaskReport } from "../status/report.ts";
import { backoffMs, sleep } from "../util/sleep.ts";

export interface Supervisor {
  /** Runs `run` until `stop()`; a throw or an early return starts it again after a backoff. */
  task(name: string, run: (signal: AbortSignal) => Promise<unknown>): void;
  /** Runs `run` every `intervalMs` (the first run after one interval) until `stop()`. */
  every(name: string, intervalMs: number, run: (signal: AbortSignal) => Promise<unknown>): void;
  /** The tasks' states, in the order they were started. */
  reports(): TaskReport[];
  /** Aborts every task and waits for all of them to end. */
  stop(): Promise<void>;
}

export interface SupervisorOptions {
  readonly log: Logger;
  /** Called at every failure, e.g. to count it. */
  readonly onFailure?: (task: string) => void;
  /** Restart backoff of a failing task: first and cap, in ms. @default [1000, 60000] */
  readonly restartMs?: readonly [number, number];
  readonly now?: () => Date;
}

export function createSupervisor(o: SupervisorOptions): Supervisor {
  const stopping = new AbortController();
  const running: Promise<void>[] = [];
  const reports = new Map<string, TaskReport>();
  const [firstMs, capMs] = o.restartMs ?? [1000, 60_000];
  const now = o.now ?? (() => new Date());

  function update(name: string, change: Partial<TaskReport>): void {
    reports.set(name, { ...reports.get(name)!, ...change });
  }

  function failed(name: string, err: unknown, what: string): number {
    const failures = reports.get(name)!.failures + 1;
    const message = err instanceof Error ? err.message : String(err);
    update(name, { failures, lastError: message, lastErrorAt: now() });
    o.onFailure?.(name);
    o.log.error(what, { task: name, failures, error: err });
    return failures;
  }

  function start(name: string, body: () => Promise<void>): void {
    if (reports.has(name)) throw new Error(`task ${name} is already supervised`);
    reports.set(name, { name, state: "running", failures: 0, lastError: null, lastErrorAt: null });
    running.push(body().finally(() => update(name, { state: "stopped" })));
  }

  return {
    task(name, run) {
      const signal = stopping.signal;
      start(name, async () => {
        let consecutive = 0;
        while (!signal.aborted) {
          update(name, { state: "running" });
          try {
            await run(signal);
            if (signal.aborted) return;
            throw new Error("ended on its own");
          } catch (err) {
            if (signal.aborted) return;
            failed(name, err, "a background task failed; starting it again");
            update(name, { state: "restarting" });
            await sleep(backoffMs(consecutive++, firstMs, capMs), signal);
          }
        }
      });
    },
    every(name, intervalMs, run) {
      const signal = stopping.signal;
      start(name, async () => {
        while (!signal.aborted) {
          await sleep(intervalMs, signal);
          if (signal.aborted) return;
          try {
            await run(signal);
          } catch (err) {
            if (!signal.aborted) failed(name, err, "a periodic task failed");
          }
        }
      });
    },
    reports: () => [...reports.values()],
    async stop() {
      stopping.abort();
      await Promise.allSettled(running);
    },
  };
}
