/** @module Which serials the CAs revoked: verified CRLs from one file, re-read when it changes. */
import * as x509 from "./x509.ts";
import { normaliseSerial } from "./serial.ts";
import type { Logger } from "../log/logger.ts";
import type { CrlHealth } from "../transport/listener_state.ts";

export type { CrlHealth };

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

interface IssuerList {
  readonly serials: ReadonlySet<string>;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | null;
}

// OpenSSL and CFSSL write "X509 CRL"; @peculiar/x509 writes "CRL". Accept both.
const PEM_CRL = /-----BEGIN (?:X509 )?CRL-----([\s\S]+?)-----END (?:X509 )?CRL-----/g;
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
  if (path === null) {
    log.warn("no CRL file configured: revoked certificates are not refused");
    return {
      isRevoked: () => false,
      refresh: () => Promise.resolve(),
      status: () => [],
      health: () => ({ configured: false, inForce: 0, problems: [] }),
      close: () => Promise.resolve(),
    };
  }
  const now = options.now ?? (() => new Date());
  const pollMs = options.pollMs ?? 2000;
  const cas = options.caPems.map((pem) => new x509.X509Certificate(pem));
  const lists = new Map<string, IssuerList>();
  let lastLook = "";
  // Problems of the file as last read (or of reading it); staleness is judged when asked.
  let fileProblems: string[] = [];
  let lastReminder = -Infinity;
  let inFlight: Promise<void> | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  async function look(): Promise<void> {
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(path!); // follows symlinks: Kubernetes swaps a `..data` link
    } catch (err) {
      if (lastLook !== "missing" || _due()) {
        log.error("cannot read the CRL file; enforcing the lists loaded before (if any)", {
          path,
          error: err,
          issuers_in_use: lists.size,
        });
        lastReminder = now().getTime();
      }
      fileProblems = [`cannot read the CRL file "${path}": ${(err as Error).message}`];
      lastLook = "missing";
      return;
    }
    // Inode too: an atomic rename can keep size and (coarse) mtime but never the inode.
    const key = `${info.ino}:${info.size}:${info.mtime?.getTime()}`;
    if (key !== lastLook) {
      lastLook = key;
      await _load();
    }
    _remindIfStale();
  }

  async function _load(): Promise<void> {
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(path!);
    } catch (err) {
      log.error("cannot read the CRL file; keeping the lists in use", { path, error: err });
      fileProblems = [`cannot read the CRL file "${path}": ${(err as Error).message}`];
      return;
    }
    const blocks = splitCrls(bytes);
    if (blocks.length === 0) {
      // Typically a file caught half-written; the next poll sees the finished one.
      log.error("the CRL file holds no CRL; keeping the lists in use", {
        path,
        bytes: bytes.length,
      });
      fileProblems = [`the CRL file "${path}" holds no CRL`];
      return;
    }
    const problems: string[] = [];
    for (const der of blocks) {
      const problem = await _accept(der);
      if (problem !== null) problems.push(problem);
    }
    fileProblems = problems;
    lastReminder = -Infinity; // report staleness of what was just loaded at once
  }

  /** Takes one CRL into force, or says why not. */
  async function _accept(der: Uint8Array<ArrayBuffer>): Promise<string | null> {
    let crl: x509.X509Crl;
    try {
      crl = new x509.X509Crl(der);
    } catch (err) {
      log.error("cannot parse a CRL; keeping the lists in use", { path, error: err });
      return `a CRL in "${path}" does not parse: ${(err as Error).message}`;
    }
    const issuer = crl.issuerName.toString();
    const candidates = cas.filter((ca) => ca.subjectName.toString() === issuer);
    let verified = false;
    for (const ca of candidates) {
      // Several CAs may share a name (key rollover): any one of them may have signed. The key is
      // imported for the CRL's own signature algorithm, as OpenSSL does: CFSSL signs its CA
      // certificates with SHA-512 but its CRLs with SHA-256, and passing the certificate itself
      // would import the key for the certificate's hash and refuse every such CRL.
      verified = await crl.verify({ publicKey: ca.publicKey }).catch(() => false);
      if (verified) break;
    }
    if (!verified) {
      log.error(
        "refusing a CRL that does not verify against a trusted CA; keeping the list in use",
        {
          path,
          issuer,
          issuer_known: candidates.length > 0,
        },
      );
      return candidates.length > 0
        ? `the CRL of "${issuer}" does not verify against its CA's key`
        : `the CRL of "${issuer}" has no trusted CA of that name`;
    }
    const current = lists.get(issuer);
    if (current !== undefined && crl.thisUpdate < current.thisUpdate) {
      // A replayed older CRL would un-revoke everyone revoked since.
      log.error("refusing a CRL older than the one in use", {
        path,
        issuer,
        this_update: crl.thisUpdate,
        in_use_since: current.thisUpdate,
      });
      return `the CRL of "${issuer}" is older than the one in use (a replay?)`;
    }
    const serials = new Set(crl.entries.map((entry) => normaliseSerial(entry.serialNumber)));
    lists.set(issuer, { serials, thisUpdate: crl.thisUpdate, nextUpdate: crl.nextUpdate ?? null });
    log.info("loaded CRL", {
      path,
      issuer,
      revoked: serials.size,
      this_update: crl.thisUpdate,
      next_update: crl.nextUpdate ?? null,
    });
    return null;
  }

  function _due(): boolean {
    return now().getTime() - lastReminder >= REMIND_MS;
  }

  function _remindIfStale(): void {
    if (!_due()) return;
    const t = now();
    let reminded = false;
    for (const [issuer, list] of lists) {
      if (list.nextUpdate !== null && list.nextUpdate < t) {
        reminded = true;
        // Still enforced (better than nothing), but the CA has stopped publishing.
        log.error("CRL is past its nextUpdate: the CA has not published a fresh one", {
          path,
          issuer,
          next_update: list.nextUpdate,
        });
      }
    }
    if (reminded) lastReminder = t.getTime();
  }

  function refresh(): Promise<void> {
    // One read at a time: a slow verify must not overlap the next poll.
    inFlight ??= look()
      .catch((err) => log.error("CRL refresh failed", { path, error: err }))
      .finally(() => (inFlight = null));
    return inFlight;
  }

  function _schedule(): void {
    if (closed) return;
    const next = setTimeout(function pollCrl() {
      refresh().finally(_schedule);
    }, pollMs);
    Deno.unrefTimer(next); // the poll alone must not keep the process alive
    timer = next;
  }

  await refresh();
  _schedule();

  return {
    isRevoked(serial, issuerDn) {
      const wanted = normaliseSerial(serial);
      if (issuerDn !== undefined) return lists.get(issuerDn)?.serials.has(wanted) ?? false;
      for (const list of lists.values()) if (list.serials.has(wanted)) return true;
      return false;
    },
    refresh,
    status: () =>
      [...lists].map(([issuer, l]) => ({
        issuer,
        revoked: l.serials.size,
        thisUpdate: l.thisUpdate,
        nextUpdate: l.nextUpdate,
      })),
    health() {
      const t = now();
      const stale = [...lists]
        .filter(([, l]) => l.nextUpdate !== null && l.nextUpdate < t)
        .map(([issuer, l]) =>
          `the CRL of "${issuer}" is past its nextUpdate (${l.nextUpdate!.toISOString()})`
        );
      const none = lists.size === 0 ? [`no CRL from "${path}" is in force`] : [];
      return {
        configured: true,
        inForce: lists.size,
        problems: [...none, ...fileProblems, ...stale],
      };
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      await inFlight;
    },
  };
}

/**
 * The CRLs in a file: every PEM block, or else DER structures laid end to end (the CA's
 * `crl.der` is two CRLs concatenated). A truncated trailing structure is dropped.
 */
export function splitCrls(bytes: Uint8Array): Uint8Array<ArrayBuffer>[] {
  const text = new TextDecoder().decode(bytes);
  if (text.includes("-----BEGIN")) {
    return [...text.matchAll(PEM_CRL)].flatMap((m) => {
      try {
        return [Uint8Array.from(atob(m[1]!.replace(/\s/g, "")), (c) => c.charCodeAt(0))];
      } catch {
        return []; // bad base64: dropped here, so a file of nothing else counts as holding none
      }
    });
  }
  const out: Uint8Array<ArrayBuffer>[] = [];
  let at = 0;
  while (at + 2 <= bytes.length && bytes[at] === 0x30) { // each CRL is a DER SEQUENCE
    const first = bytes[at + 1]!;
    let length = first;
    let header = 2;
    if (first & 0x80) {
      const octets = first & 0x7f;
      if (octets === 0 || octets > 4 || at + 2 + octets > bytes.length) break;
      length = 0;
      for (let k = 0; k < octets; k++) length = length * 256 + bytes[at + 2 + k]!;
      header += octets;
    }
    if (at + header + length > bytes.length) break;
    out.push(bytes.slice(at, at + header + length));
    at += header + length;
  }
  return out;
}
