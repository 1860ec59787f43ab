/**
 * @module The durable lifecycle: a callback is answered as soon as its wish is committed to KV —
 * never later, since RM only logs the answer and its client gives up after 5 s; the worker then
 * applies it at least once.
 */
import type { Logger } from "../log/logger.ts";
import type { WishStore } from "../store/wishes.ts";
import type { Lifecycle, LifecycleEvent, LifecycleOutcome } from "./lifecycle.ts";
import type { Registry } from "../metrics/registry.ts";
import { nextWish } from "./wish.ts";
import type { WorkerQueue } from "./worker.ts";

export interface DurableLifecycleOptions {
  readonly store: WishStore;
  readonly worker: WorkerQueue;
  readonly log: Logger;
  /** The bot: while it has no session (the bootstrap runs), work waits, and the answer says so. */
  readonly bot: {
    current(): unknown | null;
    status(): { readonly phase: string };
  };
  /** Counts callbacks by route and result (`matrixrmapi_callbacks_total`). */
  readonly metrics?: Registry;
  /** The time in ms since the epoch. @default Date.now */
  readonly now?: () => number;
}

export function createDurableLifecycle(o: DurableLifecycleOptions): Lifecycle {
  return {
    async submit(event): Promise<LifecycleOutcome> {
      const outcome = await _submit(o, event);
      o.metrics?.inc("matrixrmapi_callbacks_total", { route: event.action, result: outcome.kind });
      return outcome;
    },
  };
}

async function _submit(
  o: DurableLifecycleOptions,
  event: LifecycleEvent,
): Promise<LifecycleOutcome> {
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
      const now = new Date((o.now ?? Date.now)()).toISOString();
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
  // What the wish waits for, as far as is known now: the bootstrap, or the last attempt's.
  const record = result.record;
  const notReady = o.bot.current() === null ? `bootstrap ${o.bot.status().phase}` : null;
  const why = notReady ?? record.waitingFor ?? record.lastError ?? "queued for the worker";
  return {
    kind: "accepted",
    detail: `${action} for ${event.userId} recorded; it will be applied (${why})`,
  };
}
