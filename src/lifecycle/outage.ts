/**
 * @module Synapse unavailable (unreachable, 5xx, 429): one backoff for Synapse, not one per
 * person, so an outage with many people pending is one probe per interval instead of a retry
 * storm.
 */
import type { Logger } from "../log/logger.ts";
import { SynapseError } from "../synapse/http.ts";
import { backoffMs } from "../util/sleep.ts";

export interface OutageGate {
  /** Notes a failed call: true (and all work pauses) when it says Synapse serves nobody. */
  note(err: unknown): boolean;
  /** Synapse answered: work goes on. */
  clear(): void;
  /** When the pause ends (ms since the epoch), or `null` when there is none. */
  pausedUntil(): number | null;
}

export interface OutageGateOptions {
  readonly maxBackoffMs: number;
  readonly now: () => number;
  readonly log: Logger;
}

export function createOutageGate(o: OutageGateOptions): OutageGate {
  let outage: { until: number; failures: number } | null = null;
  return {
    note: function noteOutage(err) {
      if (!isUnavailable(err)) return false;
      const failures = (outage?.failures ?? 0) + 1;
      const wait = err.retryAfterMs ?? backoffMs(failures - 1, 1000, o.maxBackoffMs);
      outage = { until: o.now() + wait, failures };
      if (failures === 1) {
        o.log.warn("Synapse is unavailable; pausing all lifecycle work", { error: err.message });
      }
      return true;
    },
    clear: function clearOutage() {
      outage = null;
    },
    pausedUntil: () => outage?.until ?? null,
  };
}

/** Synapse could not serve anyone: unreachable, overloaded (5xx) or rate-limiting (429). */
export function isUnavailable(err: unknown): err is SynapseError {
  return err instanceof SynapseError &&
    (err.status === 0 || err.status >= 500 || err.status === 429);
}
