/** @module Which serials the CAs revoked: verified CRLs from one file, re-read when it changes. */
import * as x509 from "../x509/x509.ts";
import { normaliseSerial } from "../x509/serial.ts";
import { type CrlSource, readCrlFile } from "./crl_file.ts";
import type { Logger } from "../log/logger.ts";
import type { CrlHealth } from "../transport/listener_state.ts";

export type { CrlHealth };
export { splitCrls } from "./crl_file.ts";

/** What one issuer's CRL currently says. */
export interface IssuerCrlStatus {
  /** The issuer as @peculiar/x509 prints names (`CN=…, O=…`). */
  readonly issuer: string;
  readonly revoked: number;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | null;
}

export interface CrlGuard {
  /**
   * True when `serial` (any spelling: upper or lower case, with or without leading zeros) is on
   * the CRL of `issuerDn` (a name as @peculiar/x509 prints it); without `issuerDn`, on any CRL.
   */
  isRevoked(serial: string, issuerDn?: string): boolean;
  /** Re-reads the file now if it changed since the last look (the poll does this on its own). */
  refresh(): Promise<void>;
  /** The lists in use, one per issuer, for diagnostics and tests. */
  status(): readonly IssuerCrlStatus[];
  /** Whether revocation is in force, and what is wrong if it is not fully. */
  health(): CrlHealth;
  /** Stops the poll and waits for a read in progress. */
  close(): Promise<void>;
}

export interface CrlGuardOptions {
  /** The CRL file (PEM or DER, one or more CRLs); `null` = no revocation checking (logged). */
  readonly path: string | null;
  /** Trusted CA certificates (PEM); a CRL counts only if one of them signed it. */
  readonly caPems: readonly string[];
  readonly log: Logger;
  /** How often the file's metadata is compared with the last look. @default 2000 */
  readonly pollMs?: number;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

// A problem that persists (missing file, stale CRL) is repeated this often, not on every poll.
const REMIND_MS = 3_600_000;

/**
 * Builds a guard and reads the file once before returning.
 *
 * Failures never loosen what is already enforced: a missing file, an unparsable block, a CRL
 * without a trusted issuer, with a bad signature, or older than the one in use is logged as an
 * error and skipped, and each issuer keeps its last good list. A file missing at start revokes
 * nothing until it appears (the TLS chain check still applies), with an error logged hourly.
 */
export async function createCrlGuard(options: CrlGuardOptions): Promise<CrlGuard> {
  const { path, log } = options;
  if (path === null) return _unchecked(log);
  const g: _Guarded = {
    path,
    log,
    cas: options.caPems.map((pem) => new x509.X509Certificate(pem)),
    lists: new Map(),
    now: options.now ?? (() => new Date()),
    pollMs: options.pollMs ?? 2000,
    lastLook: "",
    fileProblems: [],
    lastReminder: -Infinity,
    inFlight: null,
    timer: undefined,
    closed: false,
  };
  await _refresh(g);
  _schedule(g);
  return {
    isRevoked: (serial, issuerDn) => _isRevoked(g, serial, issuerDn),
    refresh: () => _refresh(g),
    status: () => _status(g),
    health: () => _health(g),
    close: () => _close(g),
  };
}

/** What a guard keeps between polls, besides the file and its lists (`CrlSource`). */
interface _Guarded extends CrlSource {
  readonly now: () => Date;
  readonly pollMs: number;
  /** The file's identity at the last look, or "missing"; a change means read it again. */
  lastLook: string;
  /** Problems of the file as last read (or of reading it); staleness is judged when asked. */
  fileProblems: string[];
  /** When a persisting problem was last logged (ms since the epoch). */
  lastReminder: number;
  inFlight: Promise<void> | null;
  timer: ReturnType<typeof setTimeout> | undefined;
  closed: boolean;
}

/** The guard when no CRL file is configured: revokes nothing, says so once. */
function _unchecked(log: Logger): CrlGuard {
  log.warn("no CRL file configured: revoked certificates are not refused");
  return {
    isRevoked: () => false,
    refresh: () => Promise.resolve(),
    status: () => [],
    health: () => ({ configured: false, inForce: 0, problems: [] }),
    close: () => Promise.resolve(),
  };
}

/** Reads the file again if it changed since the last look; reminds of stale lists either way. */
async function _look(g: _Guarded): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(g.path); // follows symlinks: Kubernetes swaps a `..data` link
  } catch (err) {
    _missing(g, err);
    return;
  }
  // Inode too: an atomic rename can keep size and (coarse) mtime but never the inode.
  const key = `${info.ino}:${info.size}:${info.mtime?.getTime()}`;
  if (key !== g.lastLook) {
    g.lastLook = key;
    await _load(g);
  }
  _remindIfStale(g);
}

/** The file cannot be looked at: said when it goes missing, then hourly. */
function _missing(g: _Guarded, err: unknown): void {
  if (g.lastLook !== "missing" || _due(g)) {
    g.log.error("cannot read the CRL file; enforcing the lists loaded before (if any)", {
      path: g.path,
      error: err,
      issuers_in_use: g.lists.size,
    });
    g.lastReminder = g.now().getTime();
  }
  g.fileProblems = [`cannot read the CRL file "${g.path}": ${(err as Error).message}`];
  g.lastLook = "missing";
}

async function _load(g: _Guarded): Promise<void> {
  const read = await readCrlFile(g);
  g.fileProblems = read.problems;
  if (read.heldCrls) g.lastReminder = -Infinity; // report staleness of what was just loaded at once
}

function _due(g: _Guarded): boolean {
  return g.now().getTime() - g.lastReminder >= REMIND_MS;
}

function _remindIfStale(g: _Guarded): void {
  if (!_due(g)) return;
  const t = g.now();
  let reminded = false;
  for (const [issuer, list] of g.lists) {
    if (list.nextUpdate !== null && list.nextUpdate < t) {
      reminded = true;
      // Still enforced (better than nothing), but the CA has stopped publishing.
      g.log.error("CRL is past its nextUpdate: the CA has not published a fresh one", {
        path: g.path,
        issuer,
        next_update: list.nextUpdate,
      });
    }
  }
  if (reminded) g.lastReminder = t.getTime();
}

function _refresh(g: _Guarded): Promise<void> {
  // One read at a time: a slow verify must not overlap the next poll.
  g.inFlight ??= _look(g)
    .catch((err) => g.log.error("CRL refresh failed", { path: g.path, error: err }))
    .finally(() => (g.inFlight = null));
  return g.inFlight;
}

function _schedule(g: _Guarded): void {
  if (g.closed) return;
  const next = setTimeout(function pollCrl() {
    _refresh(g).finally(() => _schedule(g));
  }, g.pollMs);
  Deno.unrefTimer(next); // the poll alone must not keep the process alive
  g.timer = next;
}

function _isRevoked(g: _Guarded, serial: string, issuerDn: string | undefined): boolean {
  const wanted = normaliseSerial(serial);
  if (issuerDn !== undefined) return g.lists.get(issuerDn)?.serials.has(wanted) ?? false;
  for (const list of g.lists.values()) if (list.serials.has(wanted)) return true;
  return false;
}

function _status(g: _Guarded): IssuerCrlStatus[] {
  return [...g.lists].map(([issuer, l]) => ({
    issuer,
    revoked: l.serials.size,
    thisUpdate: l.thisUpdate,
    nextUpdate: l.nextUpdate,
  }));
}

function _health(g: _Guarded): CrlHealth {
  const t = g.now();
  const stale = [...g.lists]
    .filter(([, l]) => l.nextUpdate !== null && l.nextUpdate < t)
    .map(([issuer, l]) =>
      `the CRL of "${issuer}" is past its nextUpdate (${l.nextUpdate!.toISOString()})`
    );
  const none = g.lists.size === 0 ? [`no CRL from "${g.path}" is in force`] : [];
  return {
    configured: true,
    inForce: g.lists.size,
    problems: [...none, ...g.fileProblems, ...stale],
  };
}

async function _close(g: _Guarded): Promise<void> {
  g.closed = true;
  clearTimeout(g.timer);
  await g.inFlight;
}
