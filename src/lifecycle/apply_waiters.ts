/** @module Callers waiting for a generation of someone's wish to be applied (RM's answer). */

export interface ApplyWaiters {
  /** Resolves true once `generation` of `userId` is applied; false on a failed attempt or timeout. */
  wait(userId: string, generation: number, timeoutMs: number): Promise<boolean>;
  /** An attempt at `generation` of `userId` ended: tells everyone waiting for it or older. */
  settle(userId: string, generation: number, applied: boolean): void;
  /** Stopping: every waiter hears false. */
  releaseAll(): void;
}

interface Waiter {
  readonly generation: number;
  readonly resolve: (applied: boolean) => void;
}

export function createApplyWaiters(): ApplyWaiters {
  const waiters = new Map<string, Waiter[]>();

  function keep(userId: string, list: Waiter[]): void {
    if (list.length > 0) waiters.set(userId, list);
    else waiters.delete(userId);
  }

  return {
    wait: function waitApplied(userId, generation, timeoutMs) {
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          keep(userId, waiters.get(userId)?.filter((w) => w.resolve !== finish) ?? []);
          resolve(false);
        }, timeoutMs);
        function finish(applied: boolean) {
          clearTimeout(timer);
          resolve(applied);
        }
        keep(userId, [...waiters.get(userId) ?? [], { generation, resolve: finish }]);
      });
    },
    settle: function settle(userId, generation, applied) {
      keep(
        userId,
        (waiters.get(userId) ?? []).filter((w) => {
          if (w.generation <= generation) w.resolve(applied);
          return w.generation > generation;
        }),
      );
    },
    releaseAll: function releaseAll() {
      for (const list of waiters.values()) for (const w of list) w.resolve(false);
      waiters.clear();
    },
  };
}
