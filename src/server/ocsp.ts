/**
 * @module Revocation by OCSP for client leaves: one lookup per (issuer, serial) at a time, answers
 * cached for a bounded time, few lookups at once, a short timeout, and the outcome kept visible.
 */
import * as x509 from "./x509.ts";
import { normaliseSerial } from "./serial.ts";
import type { Logger } from "../log/logger.ts";
import {
  encodeOcspRequest,
  type OcspAnswer,
  OcspError,
  type OcspSubject,
  ocspUrlOf,
  readOcspResponse,
} from "./ocsp_wire.ts";
import type { OcspHealth, OcspMode } from "../transport/listener_state.ts";

export type { OcspHealth, OcspMode };

/** What OCSP says about a client leaf now. */
export type OcspVerdict =
  | { readonly kind: "good" | "revoked" | "unknown"; readonly url: string }
  | { readonly kind: "unavailable"; readonly url: string | null; readonly reason: string };

export interface OcspChecker {
  readonly mode: OcspMode;
  /** Never rejects: a failed lookup is an `unavailable` verdict. */
  check(leaf: x509.X509Certificate): Promise<OcspVerdict>;
  health(): OcspHealth;
}

export interface OcspCheckerOptions {
  readonly mode: OcspMode;
  /** Trusted CA certificates (PEM): the leaf's issuer is looked up among them. */
  readonly caPems: readonly string[];
  /** Ask this responder instead of the one in the leaf's AIA. */
  readonly url?: string | null;
  /** Per lookup, connection and answer. @default 2000 */
  readonly timeoutMs?: number;
  /** Longest a good or unknown answer is used (earlier when its nextUpdate comes). @default 60000 */
  readonly maxCacheMs?: number;
  /** How long a failed lookup's verdict stands, so an outage is not hammered. @default 10000 */
  readonly failureCacheMs?: number;
  /** Lookups in flight at once. @default 4 */
  readonly concurrency?: number;
  /** Whether a delegated responder certificate is revoked (the CRL in force). */
  readonly isRevoked?: (cert: x509.X509Certificate) => boolean;
  readonly log: Logger;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

/** `url` without user name or password, for logs, status and verdicts. */
function _shown(url: string | null): string | null {
  if (url === null) return null;
  try {
    const parsed = new URL(url);
    parsed.username = "";
    parsed.password = "";
    return parsed.toString();
  } catch {
    return "(an unparsable URL)";
  }
}

/** A problem is repeated in the log at most this often (with how many were not logged). */
const LOG_EVERY_MS = 60_000;
/** A revocation is final: a revoked answer is kept this long. */
const REVOKED_CACHE_MS = 3_600_000;
const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * Whether a verdict refuses the connection under `mode` (the CRL has been checked already): a
 * revocation always; no verdict (unknown, unreachable, not believable) only when OCSP is required.
 */
export function ocspRefusal(verdict: OcspVerdict, mode: OcspMode): string | null {
  if (verdict.kind === "revoked") return "revoked by OCSP";
  if (verdict.kind === "good" || mode !== "required") return null;
  if (verdict.kind === "unavailable") {
    return `OCSP required, and there is no verdict: ${verdict.reason}`;
  }
  return "OCSP required, and the responder does not know the certificate";
}

interface Cached {
  readonly verdict: OcspVerdict;
  readonly until: number;
}

/** An OCSP checker; with mode `off`, every verdict is `unavailable` and nothing is asked. */
export function createOcspChecker(options: OcspCheckerOptions): OcspChecker {
  const { mode, log } = options;
  const now = options.now ?? (() => new Date());
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 2000;
  const maxCacheMs = options.maxCacheMs ?? 60_000;
  const failureCacheMs = options.failureCacheMs ?? 10_000;
  const cas = options.caPems.map((pem) => new x509.X509Certificate(pem));
  const cache = new Map<string, Cached>();
  const inFlight = new Map<string, Promise<OcspVerdict>>();
  const gate = _semaphore(options.concurrency ?? 4);
  const counts = { lookups: 0, cacheHits: 0, good: 0, revoked: 0, unknown: 0, failures: 0 };
  let lastFailure: { at: Date; reason: string } | null = null;
  let failing = false;
  let lastLogged = -Infinity;
  let unlogged = 0;

  function _issuerOf(leaf: x509.X509Certificate): x509.X509Certificate | null {
    const aki = leaf.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId ?? null;
    return cas.find((ca) => {
      if (ca.subject !== leaf.issuer) return false;
      const ski = ca.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId ?? null;
      return aki === null || ski === null || aki === ski;
    }) ?? null;
  }

  async function _ask(subject: OcspSubject, url: string): Promise<OcspAnswer> {
    const nonce = crypto.getRandomValues(new Uint8Array(16));
    const body = await encodeOcspRequest(subject, nonce);
    // One deadline for the whole lookup, the wait for a free slot included.
    const signal = AbortSignal.timeout(timeoutMs);
    const release = await gate();
    try {
      if (signal.aborted) throw new OcspError("timed out waiting behind other OCSP lookups");
      const response = await doFetch(url, {
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
        now: now(),
        ...(options.isRevoked === undefined ? {} : { isRevoked: options.isRevoked }),
      });
    } finally {
      release();
    }
  }

  function _remember(key: string, verdict: OcspVerdict, answer: OcspAnswer | null): OcspVerdict {
    const t = now().getTime();
    let ttl = verdict.kind === "revoked"
      ? REVOKED_CACHE_MS
      : verdict.kind === "unavailable"
      ? failureCacheMs
      : maxCacheMs;
    // CFSSL dates its answers back to the hour and lets them live an hour: nextUpdate alone
    // would hide a revocation for up to an hour, so it only ever shortens the bound.
    const next = answer?.nextUpdate?.getTime();
    if (next !== undefined && verdict.kind !== "revoked") ttl = Math.min(ttl, next - t);
    if (ttl > 0) cache.set(key, { verdict, until: t + ttl });
    return verdict;
  }

  function _noteFailure(verdict: OcspVerdict & { kind: "unavailable" }, serial: string): void {
    counts.failures++;
    lastFailure = { at: now(), reason: verdict.reason };
    failing = true;
    const t = now().getTime();
    if (t - lastLogged < LOG_EVERY_MS) {
      unlogged++;
      return;
    }
    log.warn(
      mode === "required"
        ? "no OCSP verdict: refusing the client (MTLS_OCSP=required)"
        : "no OCSP verdict: the CRL decides",
      { reason: verdict.reason, responder: verdict.url, serial, not_logged_since: unlogged },
    );
    lastLogged = t;
    unlogged = 0;
  }

  async function _lookup(leaf: x509.X509Certificate, key: string): Promise<OcspVerdict> {
    counts.lookups++;
    const url = options.url ?? ocspUrlOf(leaf);
    const issuer = _issuerOf(leaf);
    let verdict: OcspVerdict;
    let answer: OcspAnswer | null = null;
    if (url === null) {
      verdict = {
        kind: "unavailable",
        url: null,
        reason: "the certificate names no OCSP responder",
      };
    } else if (issuer === null) {
      verdict = {
        kind: "unavailable",
        url: _shown(url),
        reason: "the certificate's issuer is not a trusted CA",
      };
    } else {
      try {
        answer = await _ask({ leaf, issuer }, url);
        verdict = { kind: answer.status, url: _shown(url)! };
      } catch (err) {
        const said = err instanceof OcspError ? err.message : `lookup failed: ${err}`;
        const reason = said.replace(/\/\/[^/@\s]*@/g, "//"); // fetch's errors quote the URL
        verdict = { kind: "unavailable", url: _shown(url), reason };
      }
    }
    // A leaf without a responder (cert-manager's, the Deno test PKI's) is the CRL's alone: not
    // an outage, so not a problem to show; `required` still refuses it.
    if (verdict.kind === "unavailable") {
      if (url !== null) _noteFailure(verdict, normaliseSerial(leaf.serialNumber));
    } else {
      counts[verdict.kind]++;
      if (failing) log.info("OCSP verdicts again", { responder: _shown(url) });
      failing = false;
    }
    return _remember(key, verdict, answer);
  }

  return {
    mode,
    check(leaf) {
      if (mode === "off") {
        return Promise.resolve({ kind: "unavailable", url: null, reason: "OCSP is off" });
      }
      const key = `${leaf.issuer}\u0000${normaliseSerial(leaf.serialNumber)}`;
      const hit = cache.get(key);
      if (hit !== undefined && hit.until > now().getTime()) {
        counts.cacheHits++;
        return Promise.resolve(hit.verdict);
      }
      cache.delete(key);
      let pending = inFlight.get(key);
      if (pending === undefined) {
        // Identical lookups in flight share one request: RM's bursts are one lookup.
        pending = _lookup(leaf, key).finally(() => inFlight.delete(key));
        inFlight.set(key, pending);
      } else counts.cacheHits++;
      return pending;
    },
    health() {
      const problems = failing && lastFailure !== null
        ? [`no OCSP verdict since ${lastFailure.at.toISOString()}: ${lastFailure.reason}`]
        : [];
      return { mode, url: _shown(options.url ?? null), ...counts, problems };
    },
  };
}

async function _readLimited(response: Response): Promise<Uint8Array> {
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (bytes.length > MAX_ANSWER_BYTES) throw new OcspError("the OCSP answer is too large");
  return bytes;
}

/** At most `limit` holders at once; the others wait in order. */
function _semaphore(limit: number): () => Promise<() => void> {
  let active = 0;
  const waiting: (() => void)[] = [];
  const release = () => {
    active--;
    waiting.shift()?.();
  };
  return function acquire() {
    if (active < limit) {
      active++;
      return Promise.resolve(release);
    }
    return new Promise((resolve) =>
      waiting.push(() => {
        active++;
        resolve(release);
      })
    );
  };
}
