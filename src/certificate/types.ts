/** @module The product certificate's types: its phases, status, options and the identity in use. */
import type { PhaseStatus } from "../util/phases.ts";
import type { Logger } from "../log/logger.ts";
import type { RmProductApi } from "../rm/product_api.ts";
import type { PairPaths } from "./files.ts";
import type { CertificateFacts } from "./verify.ts";

export const CERTIFICATE_PHASES = [
  "loading",
  "enrolling",
  "waiting_for_rm",
  "blocked",
  "ready",
  "renewing",
  "expired",
] as const;
export type CertificatePhase = typeof CERTIFICATE_PHASES[number];

/** `attempt` counts consecutive failed attempts of the current step (enrolment or renewal). */
export type CertificateStatus = PhaseStatus<CertificatePhase> & CertificateExtra;

/** Besides the phase: the certificate in use and who manages it. */
export interface CertificateExtra {
  /** The certificate in use, and when its renewal is due. */
  readonly certificate: (CertificateFacts & { readonly renewAt: Date }) | null;
  /** Who enrols and renews the pair: this service, or someone else (a Secret, cert-manager). */
  readonly managedBy: CertificateManagedBy;
}

/**
 * `self`: this service enrols, renews and writes the pair. `external`: the pair is someone else's
 * (a read-only mount, a Kubernetes Secret that cert-manager renews): it is only read, watched and
 * taken again when it changes; never enrolled, renewed, staged or written.
 */
export type CertificateManagedBy = "self" | "external";

/** The pair in use; its PEMs go to TLS stacks only, never to logs or responses. */
export interface ProductIdentity {
  readonly certPem: string;
  readonly keyPem: string;
  readonly facts: CertificateFacts;
}

export interface CertificateManager {
  /** Runs until `signal` aborts. */
  run(signal: AbortSignal): Promise<void>;
  status(): CertificateStatus;
  /** The usable pair, or `null` before there is one. */
  current(): ProductIdentity | null;
  /** Resolves with the pair once there is one (`null` if `signal` aborts first). */
  whenReady(signal: AbortSignal): Promise<ProductIdentity | null>;
  /** Calls `listener` with every new pair; returns an unsubscribe function. */
  onChange(listener: (identity: ProductIdentity) => void): () => void;
}

export interface CertificateManagerOptions {
  readonly paths: PairPaths;
  /** The CN to enrol (`product.dns`). */
  readonly cn: string;
  /** The manifest's `rasenmaeher.init.csr_jwt`, read afresh at every attempt. */
  readonly csrJwt: () => Promise<string | null>;
  readonly rm: RmProductApi;
  /** The trusted CA files a certificate must chain to. */
  readonly caPems: () => Promise<readonly string[]>;
  readonly log: Logger;
  /** @default () => new Date() */
  readonly now?: () => Date;
  /** Backoff while RM is unreachable: first and cap, in ms. @default [1000, 60000] */
  readonly retryMs?: readonly [number, number];
  /** How long to wait before looking again at a problem only an operator can fix. @default 300000 */
  readonly blockedRetryMs?: number;
  /** The longest sleep while all is well, so expiry warnings repeat. @default 3600000 */
  readonly recheckMs?: number;
  /** Key generation (tests may hand out pre-made keys). @default RSA 4096 from Web Crypto */
  readonly newKeys?: () => Promise<CryptoKeyPair>;
  /** @default "self" */
  readonly managedBy?: CertificateManagedBy;
  /** How often an externally managed pair is looked at for a change. @default 10000 */
  readonly watchMs?: number;
}

/** Renew once this share of the validity has passed (42-day certificates: ≈14 days left). */
export const RENEW_AT_FRACTION = 2 / 3;

/** When renewal is due: `RENEW_AT_FRACTION` of the validity after notBefore. */
export function renewAt(facts: CertificateFacts): Date {
  const start = facts.notBefore.getTime();
  return new Date(start + (facts.notAfter.getTime() - start) * RENEW_AT_FRACTION);
}
