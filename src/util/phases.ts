/**
 * @module The one status shape of a background task that moves through phases (the bootstrap,
 * the product certificate, Synapse's login client): the phase and since when, the attempt, the
 * last error and when. `status`, `/metrics` and the CLI read every task the same way.
 */

export interface PhaseStatus<P extends string> {
  readonly phase: P;
  /** When the current phase began. */
  readonly since: Date;
  /** The task's own count: consecutive failures, or attempts of the whole sequence. */
  readonly attempt: number;
  readonly lastError: string | null;
  readonly lastErrorAt: Date | null;
}

export interface Phases<P extends string, X extends object> {
  status(): PhaseStatus<P> & X;
  /** Moves to `phase` (`since` changes only when the phase does). */
  enter(phase: P): void;
  /** Records `error` as the last one, without counting an attempt. */
  note(error: string): void;
  /** A failed attempt: moves to `phase`, counts it, records `error`; returns the new count. */
  fail(phase: P, error: string): number;
  /** A success: moves to `phase`, the count back to 0, no last error. */
  succeed(phase: P): void;
  /** Changes the task's own fields (or the attempt count). */
  update(patch: Partial<X & { attempt: number }>): void;
}

/**
 * @example
 * const phases = createPhases("checking", { clientId: null }, () => new Date());
 * phases.fail("error", "Keycloak unreachable"); // → 1
 * phases.status().lastError; // "Keycloak unreachable"
 */
export function createPhases<P extends string, X extends object>(
  initial: P,
  extra: X,
  now: () => Date = () => new Date(),
): Phases<P, X> {
  let status: PhaseStatus<P> & X = {
    ...extra,
    phase: initial,
    since: now(),
    attempt: 0,
    lastError: null,
    lastErrorAt: null,
  };
  function enter(phase: P): void {
    if (status.phase !== phase) status = { ...status, phase, since: now() };
  }
  return {
    status: () => status,
    enter,
    note: function note(error) {
      status = { ...status, lastError: error, lastErrorAt: now() };
    },
    fail: function fail(phase, error) {
      enter(phase);
      status = { ...status, attempt: status.attempt + 1, lastError: error, lastErrorAt: now() };
      return status.attempt;
    },
    succeed: function succeed(phase) {
      enter(phase);
      status = { ...status, attempt: 0, lastError: null, lastErrorAt: null };
    },
    update: function update(patch) {
      status = { ...status, ...patch };
    },
  };
}
