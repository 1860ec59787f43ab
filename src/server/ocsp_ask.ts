/** @module One OCSP request over HTTP for `ocsp.ts`: a slot under the cap, one deadline, a bounded answer. */
import type * as x509 from "../x509/x509.ts";
import {
  encodeOcspRequest,
  type OcspAnswer,
  OcspError,
  type OcspSubject,
  readOcspResponse,
} from "./ocsp_wire.ts";

/** How one checker asks its responders; the same for each of its lookups. */
export interface AskOptions {
  /** For the whole lookup, the wait for a free slot included. */
  readonly timeoutMs: number;
  /** Takes a lookup slot (`semaphore()`); what it resolves to gives the slot back. */
  readonly gate: () => Promise<() => void>;
  readonly fetch: typeof fetch;
  readonly now: () => Date;
  /** Whether a delegated responder certificate is revoked (the CRL in force). */
  readonly isRevoked?: ((cert: x509.X509Certificate) => boolean) | undefined;
}

const MAX_ANSWER_BYTES = 64 * 1024;

/** Asks `url` about `subject`; rejects with an `OcspError` when there is no believable answer. */
export async function askResponder(
  subject: OcspSubject,
  url: string,
  o: AskOptions,
): Promise<OcspAnswer> {
  const nonce = crypto.getRandomValues(new Uint8Array(16));
  const body = await encodeOcspRequest(subject, nonce);
  // One deadline for the whole lookup, the wait for a free slot included.
  const signal = AbortSignal.timeout(o.timeoutMs);
  const release = await o.gate();
  try {
    if (signal.aborted) throw new OcspError("timed out waiting behind other OCSP lookups");
    const response = await o.fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/ocsp-request",
        accept: "application/ocsp-response",
      },
      body,
      signal,
    }).catch((err: Error) => {
      throw new OcspError(`cannot reach the OCSP responder: ${err.message}`);
    });
    if (!response.ok) {
      await response.body?.cancel();
      throw new OcspError(`the OCSP responder answered HTTP ${response.status}`);
    }
    const der = await _readLimited(response);
    return await readOcspResponse(der, subject, {
      nonce,
      now: o.now(),
      ...(o.isRevoked === undefined ? {} : { isRevoked: o.isRevoked }),
    });
  } finally {
    release();
  }
}

async function _readLimited(response: Response): Promise<Uint8Array> {
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (bytes.length > MAX_ANSWER_BYTES) throw new OcspError("the OCSP answer is too large");
  return bytes;
}
