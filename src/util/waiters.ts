/** @module Waiting for a value to appear: callers wait, the owner wakes them when it may have. */

export interface Waiters<T> {
  /** Resolves with the value once it is there, or with `null` when `signal` aborts first. */
  wait(signal: AbortSignal): Promise<T | null>;
  /** The value may have appeared: let every waiter look. */
  wake(): void;
}

export function createWaiters<T>(current: () => T | null): Waiters<T> {
  const waiting = new Set<() => void>();
  return {
    wait(signal) {
      return new Promise((resolve) => {
        const check = () => {
          const value = current();
          if (value === null && !signal.aborted) return;
          waiting.delete(check);
          signal.removeEventListener("abort", check);
          resolve(value);
        };
        waiting.add(check);
        signal.addEventListener("abort", check, { once: true });
        check();
      });
    },
    wake() {
      for (const check of [...waiting]) check();
    },
  };
}
