/**
 * @module The durable lifecycle: a callback is answered only after its wish is committed to KV;
 * the worker applies it at least once. The answer says whether it is already applied.
 */
import type { Logger } from "../log/logger.ts";
import type { WishStore } from "../store/wishes.ts";
import type { Lifecycle, LifecycleOutcome } from "./lifecycle.ts";
import { nextWish } from "./wish.ts";
import type { WorkerQueue } from "./worker.ts";

export interface DurableLifecycleOptions {
  readonly store: WishStore;
  readonly worker: WorkerQueue;
  readonly log: Logger;
  /**
   * How long a callback may wait to answer "applied" instead of "accepted". The default is not
   * at all: `success: true` already means "durably recorded", RM only logs the answer, and its
   * client gives up after 5 s — so the answer follows the KV commit at once. With a budget, it
   * never waits while the worker is saturated and stops at the first failed attempt.
   * @default 0
   */
  readonly answerWithinMs?: number;
  /** Why work may be delayed right now (e.g. the bootstrap phase), or null when ready. */
  readonly notReadyReason: () => string | null;
}

export function createDurableLifecycle(o: DurableLifecycleOptions): Lifecycle {
  return {
    async submit(event, options = {}): Promise<LifecycleOutcome> {
      if (event.action === "updated") {
        return {
          kind: "noop",
          detail: "A callsign change needs a new Matrix account; nothing was changed in Matrix",
        };
      }
      const action = event.action;
      let result;
      try {
        result = await o.store.update(event.userId, (current) => {
          const change = nextWish(current, action);
          if (change.kind === "revoked") return null;
          const now = new Date().toISOString();
          return {
            version: 1,
            userId: event.userId,
            callsign: event.callsign,
            ...change.wish,
            generation: (current?.generation ?? 0) + 1,
            appliedGeneration: current?.appliedGeneration ?? 0,
            lastAction: action,
            updatedAt: now,
            pendingSince: current?.pendingSince ?? now,
            attempts: current?.attempts ?? 0,
            nextAttemptAt: 0,
            lastError: current?.lastError ?? null,
            waitingFor: current?.waitingFor ?? null,
          };
        });
      } catch (err) {
        o.log.error("cannot record a lifecycle callback", {
          user_id: event.userId,
          action,
          error: err,
        });
        return {
          kind: "unavailable",
          reason: `Cannot record ${action} for ${event.userId}: the local database failed`,
        };
      }
      if (result.kind === "refused") {
        return {
          kind: "conflict",
          reason: `${event.userId} was revoked; a revocation is final, so ${action} is not applied`,
        };
      }
      o.worker.wake();
      const waitReason = o.notReadyReason();
      const generation = result.record.generation;
      const budget = o.answerWithinMs ?? 0;
      const wait = budget > 0 && (options.wait ?? true) && waitReason === null &&
        !o.worker.saturated();
      if (wait && await o.worker.waitApplied(event.userId, generation, budget)) {
        return { kind: "applied", detail: `${action} applied to ${event.userId}` };
      }
      // After a wait, the attempt's outcome says best what the wish waits for.
      const latest = wait ? await o.store.get(event.userId).catch(() => null) : result.record;
      const why = waitReason ?? latest?.waitingFor ?? latest?.lastError ?? "queued for the worker";
      return {
        kind: "accepted",
        detail: `${action} for ${event.userId} recorded; it will be applied (${why})`,
      };
    },
  };
}
