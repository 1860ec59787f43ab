/**
 * @module What every step of the product certificate shares: the options, the clock, the phased
 * status, how a failure is recorded and how long to wait after it, and the identity in use with
 * everyone who waits for it or listens to its changes.
 */
import { createPhases, type Phases } from "../util/phases.ts";
import { createWaiters } from "../util/waiters.ts";
import { backoffMs } from "../util/sleep.ts";
import { type CertificateFacts, checkPair, type PairCheck } from "./verify.ts";

/** Whether a refused certificate is past its notAfter (RM renews only a valid one). */
interface Expired {
  readonly expired: boolean;
}
import {
  type CertificateExtra,
  type CertificateManagerOptions,
  type CertificatePhase,
  type ProductIdentity,
  renewAt,
} from "./types.ts";

export interface CertificateTask {
  readonly o: CertificateManagerOptions;
  readonly now: () => Date;
  readonly phases: Phases<CertificatePhase, CertificateExtra>;
  /** The longest sleep while all is well. */
  readonly recheckMs: number;
  /** How often an externally managed pair is looked at. */
  readonly watchMs: number;
  /** A failed attempt: recorded, logged (error when `loud`, else warning); its count. */
  failed(phase: CertificatePhase, message: string, loud: boolean): number;
  /** A problem only an operator can fix: recorded and logged; how long to wait. */
  blocked(message: string, phase: "blocked" | "expired"): number;
  /** The wait after the `attempt`-th consecutive failure (RM unreachable, a bad reply). */
  retryMs(attempt: number): number;
  /** The pair in use, or `null`. */
  identity(): ProductIdentity | null;
  /** Takes `next` as the pair in use and tells everyone when it changed. */
  publish(next: ProductIdentity): void;
  /** Resolves with the pair once there is one (`null` if `signal` aborts first). */
  whenReady(signal: AbortSignal): Promise<ProductIdentity | null>;
  onChange(listener: (identity: ProductIdentity) => void): () => void;
  /** Wakes whoever waits (stopping). */
  wake(): void;
}

export function createCertificateTask(o: CertificateManagerOptions): CertificateTask {
  const now = o.now ?? (() => new Date());
  const [firstMs, capMs] = o.retryMs ?? [1000, 60_000];
  const blockedMs = o.blockedRetryMs ?? 300_000;
  const phases = createPhases<CertificatePhase, CertificateExtra>(
    "loading",
    { certificate: null, managedBy: o.managedBy ?? "self" },
    now,
  );
  let identity: ProductIdentity | null = null;
  const listeners = new Set<(identity: ProductIdentity) => void>();
  const waiting = createWaiters(() => identity);

  function failed(phase: CertificatePhase, message: string, loud: boolean): number {
    const attempt = phases.fail(phase, message);
    if (loud) o.log.error(message, { phase, attempt });
    else o.log.warn(message, { phase, attempt });
    return attempt;
  }

  function publish(next: ProductIdentity): void {
    const changed = identity === null || identity.certPem !== next.certPem ||
      identity.keyPem !== next.keyPem;
    identity = next;
    phases.update({ certificate: { ...next.facts, renewAt: renewAt(next.facts) } });
    if (!changed) return;
    waiting.wake();
    for (const listener of listeners) {
      try {
        listener(next);
      } catch (err) {
        o.log.error("a user of the product certificate failed to take the new pair", {
          error: err,
        });
      }
    }
  }

  return {
    o,
    now,
    phases,
    recheckMs: o.recheckMs ?? 3_600_000,
    watchMs: o.watchMs ?? 10_000,
    failed,
    blocked: function blocked(message, phase) {
      failed(phase, message, true);
      return blockedMs;
    },
    retryMs: (attempt) => backoffMs(attempt - 1, firstMs, capMs),
    identity: () => identity,
    publish,
    whenReady: (signal) => waiting.wait(signal),
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    wake: () => waiting.wake(),
  };
}

/**
 * The pair on the volume checked as the service uses it (its CN expected, an unverifiable chain
 * a warning); a refusal says whether the certificate has expired.
 */
export async function checkStoredPair(
  t: CertificateTask,
  certPem: string,
  keyPem: string,
): Promise<Extract<PairCheck, { ok: true }> | (Extract<PairCheck, { ok: false }> & Expired)> {
  const check = await checkPair({
    certPem,
    keyPem,
    caPems: await t.o.caPems(),
    now: t.now(),
    expectedCn: t.o.cn,
    chainIsWarning: true,
  });
  if (check.ok) return check;
  return { ...check, expired: check.facts !== null && t.now() >= check.facts.notAfter };
}

/** A certificate's facts as log fields. */
export function factsLog(f: CertificateFacts): Record<string, unknown> {
  return {
    cn: f.cn,
    serial: f.serial,
    not_after: f.notAfter.toISOString(),
    renew_at: renewAt(f).toISOString(),
  };
}

export const DAY_MS = 86_400_000;
/** Days before expiry from which every look logs an error. */
export const WARN_DAYS = 7;
