/** @module Waiting that an AbortSignal cuts short: every background loop sleeps through this. */

/** Resolves after `ms`, or at once when `signal` aborts (never rejects). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * Capped exponential backoff, the one formula of every retrying loop: `firstMs` × 2^attempt
 * (attempt 0 waits `firstMs`), never above `capMs`; a negative attempt counts as 0.
 *
 * @example backoffMs(3, 1000, 60_000) // 8000
 */
export function backoffMs(attempt: number, firstMs: number, capMs: number): number {
  return Math.min(capMs, firstMs * 2 ** Math.min(Math.max(attempt, 0), 30));
}
