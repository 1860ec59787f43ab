/**
 * @module Revocation by OCSP for client leaves: one lookup per (issuer, serial) at a time, answers
 * cached for a bounded time, few lookups at once, a short timeout, and the outcome kept visible.
 */
import type { CrlGuard } from "./crl.ts";
import * as x509 from "../x509/x509.ts";
import { normaliseSerial } from "../x509/serial.ts";
import type { Logger } from "../log/logger.ts";
import { type OcspAnswer, OcspError, type OcspSubject, ocspUrlOf } from "./ocsp_wire.ts";
import { type AskOptions, askResponder } from "./ocsp_ask.ts";
import { semaphore } from "../util/semaphore.ts";
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
  /** The CRL in force: a delegated responder certificate it revokes is not believed. */
  readonly crl?: Pick<CrlGuard, "isRevoked">;
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

/** An OCSP checker; with mode `off`, every verdict is `unavailable` and nothing is asked. */
export function createOcspChecker(options: OcspCheckerOptions): OcspChecker {
  const now = options.now ?? (() => new Date());
  const c: _Checker = {
    o: options,
    now,
    maxCacheMs: options.maxCacheMs ?? 60_000,
    failureCacheMs: options.failureCacheMs ?? 10_000,
    cas: options.caPems.map((pem) => new x509.X509Certificate(pem)),
    ask: {
      timeoutMs: options.timeoutMs ?? 2000,
      gate: semaphore(options.concurrency ?? 4),
      fetch: options.fetch ?? fetch,
      now,
      isRevoked: options.crl === undefined
        ? undefined
        : (cert) => options.crl!.isRevoked(cert.serialNumber, cert.issuer),
    },
    cache: new Map(),
    inFlight: new Map(),
    counts: { lookups: 0, cacheHits: 0, good: 0, revoked: 0, unknown: 0, failures: 0 },
    lastFailure: null,
    failing: false,
    lastLogged: -Infinity,
    unlogged: 0,
  };
  return {
    mode: options.mode,
    check: (leaf) => _check(c, leaf),
    health: () => _health(c),
  };
}

interface _Cached {
  readonly verdict: OcspVerdict;
  readonly until: number;
}

/** What one checker keeps: its settings, the answers it remembers, its counts and its outage. */
interface _Checker {
  readonly o: OcspCheckerOptions;
  readonly now: () => Date;
  readonly maxCacheMs: number;
  readonly failureCacheMs: number;
  readonly cas: readonly x509.X509Certificate[];
  readonly ask: AskOptions;
  readonly cache: Map<string, _Cached>;
  readonly inFlight: Map<string, Promise<OcspVerdict>>;
  readonly counts: Record<
    "lookups" | "cacheHits" | "good" | "revoked" | "unknown" | "failures",
    number
  >;
  lastFailure: { at: Date; reason: string } | null;
  /** The last lookup of a leaf that names a responder gave no verdict. */
  failing: boolean;
  lastLogged: number;
  /** Failures since `lastLogged` that were not logged. */
  unlogged: number;
}

function _check(c: _Checker, leaf: x509.X509Certificate): Promise<OcspVerdict> {
  if (c.o.mode === "off") {
    return Promise.resolve({ kind: "unavailable", url: null, reason: "OCSP is off" });
  }
  const key = `${leaf.issuer}\u0000${normaliseSerial(leaf.serialNumber)}`;
  const hit = _cached(c, key);
  if (hit !== null) return Promise.resolve(hit);
  let pending = c.inFlight.get(key);
  if (pending === undefined) {
    // Identical lookups in flight share one request: RM's bursts are one lookup.
    pending = _lookup(c, leaf, key).finally(() => c.inFlight.delete(key));
    c.inFlight.set(key, pending);
  } else c.counts.cacheHits++;
  return pending;
}

/** The verdict remembered for `key` while it stands (counted as a hit); a stale one is dropped. */
function _cached(c: _Checker, key: string): OcspVerdict | null {
  const hit = c.cache.get(key);
  if (hit !== undefined && hit.until > c.now().getTime()) {
    c.counts.cacheHits++;
    return hit.verdict;
  }
  c.cache.delete(key);
  return null;
}

function _health(c: _Checker): OcspHealth {
  const { counts, lastFailure } = c;
  const problems = c.failing && lastFailure !== null
    ? [`no OCSP verdict since ${lastFailure.at.toISOString()}: ${lastFailure.reason}`]
    : [];
  return { mode: c.o.mode, url: _shown(c.o.url ?? null), ...counts, problems };
}

/** One lookup: its verdict counted, the outage noted, and remembered under `key`. */
async function _lookup(c: _Checker, leaf: x509.X509Certificate, key: string): Promise<OcspVerdict> {
  c.counts.lookups++;
  const url = c.o.url ?? ocspUrlOf(leaf);
  const issuer = _issuerOf(c.cas, leaf);
  // Nothing is awaited when there is nothing to ask: such a verdict is remembered at once.
  const { verdict, answer } = url === null || issuer === null
    ? { verdict: _unaskable(url), answer: null }
    : await _asked(c, { leaf, issuer }, url);
  // A leaf without a responder (cert-manager's, the Deno test PKI's) is the CRL's alone: not
  // an outage, so not a problem to show; `required` still refuses it.
  if (verdict.kind === "unavailable") {
    if (url !== null) _noteFailure(c, verdict, normaliseSerial(leaf.serialNumber));
  } else {
    c.counts[verdict.kind]++;
    if (c.failing) c.o.log.info("OCSP verdicts again", { responder: _shown(url) });
    c.failing = false;
  }
  return _remember(c, key, verdict, answer);
}

/** Among the trusted CAs, the one that issued `leaf` (by name, and by key id where both say). */
function _issuerOf(
  cas: readonly x509.X509Certificate[],
  leaf: x509.X509Certificate,
): x509.X509Certificate | null {
  const aki = leaf.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId ?? null;
  return cas.find((ca) => {
    if (ca.subject !== leaf.issuer) return false;
    const ski = ca.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId ?? null;
    return aki === null || ski === null || aki === ski;
  }) ?? null;
}

/** The verdict on a leaf that names no responder (`url` null) or that no trusted CA issued. */
function _unaskable(url: string | null): OcspVerdict {
  if (url === null) {
    return { kind: "unavailable", url: null, reason: "the certificate names no OCSP responder" };
  }
  return {
    kind: "unavailable",
    url: _shown(url),
    reason: "the certificate's issuer is not a trusted CA",
  };
}

/** Asks the responder; a failed request is an `unavailable` verdict, never a rejection. */
async function _asked(
  c: _Checker,
  subject: OcspSubject,
  url: string,
): Promise<{ verdict: OcspVerdict; answer: OcspAnswer | null }> {
  try {
    const answer = await askResponder(subject, url, c.ask);
    return { verdict: { kind: answer.status, url: _shown(url)! }, answer };
  } catch (err) {
    const said = err instanceof OcspError ? err.message : `lookup failed: ${err}`;
    const reason = said.replace(/\/\/[^/@\s]*@/g, "//"); // fetch's errors quote the URL
    return { verdict: { kind: "unavailable", url: _shown(url), reason }, answer: null };
  }
}

function _remember(
  c: _Checker,
  key: string,
  verdict: OcspVerdict,
  answer: OcspAnswer | null,
): OcspVerdict {
  const t = c.now().getTime();
  let ttl = verdict.kind === "revoked"
    ? REVOKED_CACHE_MS
    : verdict.kind === "unavailable"
    ? c.failureCacheMs
    : c.maxCacheMs;
  // CFSSL dates its answers back to the hour and lets them live an hour: nextUpdate alone
  // would hide a revocation for up to an hour, so it only ever shortens the bound.
  const next = answer?.nextUpdate?.getTime();
  if (next !== undefined && verdict.kind !== "revoked") ttl = Math.min(ttl, next - t);
  if (ttl > 0) c.cache.set(key, { verdict, until: t + ttl });
  return verdict;
}

function _noteFailure(
  c: _Checker,
  verdict: OcspVerdict & { kind: "unavailable" },
  serial: string,
): void {
  c.counts.failures++;
  c.lastFailure = { at: c.now(), reason: verdict.reason };
  c.failing = true;
  const t = c.now().getTime();
  if (t - c.lastLogged < LOG_EVERY_MS) {
    c.unlogged++;
    return;
  }
  c.o.log.warn(
    c.o.mode === "required"
      ? "no OCSP verdict: refusing the client (MTLS_OCSP=required)"
      : "no OCSP verdict: the CRL decides",
    { reason: verdict.reason, responder: verdict.url, serial, not_logged_since: c.unlogged },
  );
  c.lastLogged = t;
  c.unlogged = 0;
}
