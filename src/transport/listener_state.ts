/** @module The direct mTLS listener's state as health, status and metrics show it. */

/**
 * Whether revocation by CRL is in force. `problems` is empty only when every CRL in the file was
 * accepted, at least one list is in force and none is past its nextUpdate.
 */
export interface CrlHealth {
  /** False when no CRL file is configured (revocation by CRL is off). */
  readonly configured: boolean;
  /** How many issuers' lists are enforced now. */
  readonly inForce: number;
  /** What an operator must look at, one sentence each; never a secret. */
  readonly problems: readonly string[];
}

export const MTLS_LISTENER_PHASES = [
  "disabled",
  "waiting_for_certificate",
  "listening",
  "refused_server_certificate",
  "error",
] as const;
export type MtlsListenerPhase = typeof MTLS_LISTENER_PHASES[number];

/** The direct mTLS listener's state, for health, status and metrics. */
export interface MtlsListenerStatus {
  readonly phase: MtlsListenerPhase;
  readonly since: Date;
  /** Why it is not listening, or what an operator should know while it is; `null` when fine. */
  readonly detail: string | null;
  /** Revocation by CRL; `null` until the listener has read its CRL file. */
  readonly crl: CrlHealth | null;
}

/** Where the listener's state is kept while it starts and runs. */
export interface MtlsListenerState {
  status(): MtlsListenerStatus;
  enter(phase: MtlsListenerPhase, detail?: string | null): void;
  /** The CRL guard whose health the status shows. */
  attach(crl: { health(): CrlHealth }): void;
}

export function createMtlsListenerState(
  enabled: boolean,
  clock: () => Date = () => new Date(),
): MtlsListenerState {
  let phase: MtlsListenerPhase = enabled ? "waiting_for_certificate" : "disabled";
  let since = clock();
  let detail: string | null = null;
  let crl: { health(): CrlHealth } | null = null;
  return {
    status: () => ({ phase, since, detail, crl: crl?.health() ?? null }),
    enter(next, nextDetail = null) {
      if (next !== phase) since = clock();
      phase = next;
      detail = nextDetail;
    },
    attach(guard) {
      crl = guard;
    },
  };
}
