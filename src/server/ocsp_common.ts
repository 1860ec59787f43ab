/** @module What the OCSP modules share: the subject asked about, the error, the read options. */
import type * as x509 from "../x509/x509.ts";

/** The certificate asked about and the CA that issued it. */
export interface OcspSubject {
  readonly leaf: x509.X509Certificate;
  readonly issuer: x509.X509Certificate;
}

/** Why an answer is not believed, or why there is none; the message never holds a secret. */
export class OcspError extends Error {
  override readonly name = "OcspError";
}

/** Clocks disagree a little; a responder's `thisUpdate` may be this far ahead of ours. */
export const CLOCK_SKEW_MS = 60_000;

/** Options for readOcspResponse(). */
export interface ReadOptions {
  /** The nonce sent; an answer that echoes another one is refused. */
  readonly nonce: Uint8Array;
  readonly now: Date;
  /** Whether a delegated responder certificate has been revoked (by the CRL in force). */
  readonly isRevoked?: (cert: x509.X509Certificate) => boolean;
}

/** Whether two byte strings are equal. */
export function bytesEqual(a: ArrayBuffer | Uint8Array, b: ArrayBuffer | Uint8Array): boolean {
  const x = a instanceof Uint8Array ? a : new Uint8Array(a);
  const y = b instanceof Uint8Array ? b : new Uint8Array(b);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}
