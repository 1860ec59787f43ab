/** @module How healthy the service is: the bootstrap decides, within a grace period at start-up. */
import type { BootstrapStatus } from "../bootstrap/bootstrap.ts";

/** Failing for longer than this since start-up makes the service report itself unhealthy. */
export const UNHEALTHY_AFTER_MS = 5 * 60_000;

export interface HealthSummary {
  readonly healthy: boolean;
  readonly extra: string;
}

/**
 * Healthy while ready, or while still within the grace period of a start-up that is making its
 * way (Synapse may take minutes to start); unhealthy once it has kept failing past the grace.
 */
export function summariseHealth(
  s: BootstrapStatus,
  startedAt: Date,
  now: Date = new Date(),
  unhealthyAfterMs: number = UNHEALTHY_AFTER_MS,
): HealthSummary {
  if (s.phase === "ready") return { healthy: true, extra: "bootstrap ready" };
  const failing = s.lastError !== null && now.getTime() - startedAt.getTime() > unhealthyAfterMs;
  const detail = s.lastError === null ? "" : `; last error: ${s.lastError}`;
  return {
    healthy: !failing,
    extra: `bootstrap ${s.phase} since ${s.since.toISOString()} (attempt ${s.attempt})${detail}`,
  };
}
