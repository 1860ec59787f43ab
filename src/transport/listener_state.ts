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

/** `off`: no OCSP; `on`: OCSP first, the CRL when there is no verdict; `required`: no verdict, no entry. */
export const OCSP_MODES = ["off", "on", "required"] as const;
export type OcspMode = typeof OCSP_MODES[number];

/** Revocation by OCSP: counts since start and what is wrong now. */
export interface OcspHealth {
  readonly mode: OcspMode;
  /** The configured responder (`MTLS_OCSP_URL`); `null` = each leaf's AIA. */
  readonly url: string | null;
  readonly lookups: number;
  readonly cacheHits: number;
  readonly good: number;
  readonly revoked: number;
  readonly unknown: number;
  /** Lookups that ended without a believable answer. */
  readonly failures: number;
  /** Empty while the last lookup gave a verdict; never a secret. */
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
  /** Revocation by OCSP; `null` until the listener runs. */
  readonly ocsp: OcspHealth | null;
}

/** Where the listener's state is kept while it starts and runs. */
export interface MtlsListenerState {
  status(): MtlsListenerStatus;
  enter(phase: MtlsListenerPhase, detail?: string | null): void;
  /** The CRL guard whose health the status shows. */
  attach(crl: { health(): CrlHealth }, ocsp?: { health(): OcspHealth }): void;
}

export function createMtlsListenerState(
  enabled: boolean,
  clock: () => Date = () => new Date(),
): MtlsListenerState {
  let phase: MtlsListenerPhase = enabled ? "waiting_for_certificate" : "disabled";
  let since = clock();
  let detail: string | null = null;
  let crl: { health(): CrlHealth } | null = null;
  let ocsp: { health(): OcspHealth } | null = null;
  return {
    status: () => ({
      phase,
      since,
      detail,
      crl: crl?.health() ?? null,
      ocsp: ocsp?.health() ?? null,
    }),
    enter(next, nextDetail = null) {
      if (next !== phase) since = clock();
      phase = next;
      detail = nextDetail;
    },
    attach(guard, checker) {
      crl = guard;
      ocsp = checker ?? null;
    },
  };
}
