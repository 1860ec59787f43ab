/** @module Reads a CRL file into per-issuer lists: each CRL verified, none older than in use. */
import * as x509 from "../x509/x509.ts";
import { normaliseSerial } from "../x509/serial.ts";
import type { Logger } from "../log/logger.ts";

/** What one issuer's CRL in force says. */
export interface IssuerList {
  readonly serials: ReadonlySet<string>;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | null;
}

/** The file, who may sign what it holds, and the lists it updates in place. */
export interface CrlSource {
  readonly path: string;
  readonly cas: readonly x509.X509Certificate[];
  readonly log: Logger;
  /** Per issuer as @peculiar/x509 prints names; a list is replaced only by a verified newer one. */
  readonly lists: Map<string, IssuerList>;
}

/** What one read of the file found. */
export interface CrlFileRead {
  /** One sentence per problem; empty when every CRL in the file was taken into force. */
  readonly problems: string[];
  /** Whether the file held CRLs at all (each then accepted or refused on its own). */
  readonly heldCrls: boolean;
}

// OpenSSL and CFSSL write "X509 CRL"; @peculiar/x509 writes "CRL". Accept both.
const PEM_CRL = /-----BEGIN (?:X509 )?CRL-----([\s\S]+?)-----END (?:X509 )?CRL-----/g;

/**
 * Reads `s.path` and takes each CRL in it into `s.lists`. Nothing already in force is dropped:
 * an unreadable file, or one without a CRL, leaves every list as it was.
 */
export async function readCrlFile(s: CrlSource): Promise<CrlFileRead> {
  const { path, log } = s;
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (err) {
    log.error("cannot read the CRL file; keeping the lists in use", { path, error: err });
    return {
      problems: [`cannot read the CRL file "${path}": ${(err as Error).message}`],
      heldCrls: false,
    };
  }
  const blocks = splitCrls(bytes);
  if (blocks.length === 0) {
    // Typically a file caught half-written; the next poll sees the finished one.
    log.error("the CRL file holds no CRL; keeping the lists in use", {
      path,
      bytes: bytes.length,
    });
    return { problems: [`the CRL file "${path}" holds no CRL`], heldCrls: false };
  }
  const problems: string[] = [];
  for (const der of blocks) {
    const problem = await _accept(s, der);
    if (problem !== null) problems.push(problem);
  }
  return { problems, heldCrls: true };
}

/** Takes one CRL into force, or says why not. */
async function _accept(s: CrlSource, der: Uint8Array<ArrayBuffer>): Promise<string | null> {
  let crl: x509.X509Crl;
  try {
    crl = new x509.X509Crl(der);
  } catch (err) {
    s.log.error("cannot parse a CRL; keeping the lists in use", { path: s.path, error: err });
    return `a CRL in "${s.path}" does not parse: ${(err as Error).message}`;
  }
  const issuer = crl.issuerName.toString();
  const refused = (await _unverified(s, crl, issuer)) ?? _replayed(s, crl, issuer);
  if (refused !== null) return refused;
  _take(s, crl, issuer);
  return null;
}

/** Why no trusted CA vouches for `crl`, or `null` when one signed it. */
async function _unverified(
  s: CrlSource,
  crl: x509.X509Crl,
  issuer: string,
): Promise<string | null> {
  const candidates = s.cas.filter((ca) => ca.subjectName.toString() === issuer);
  for (const ca of candidates) {
    // Several CAs may share a name (key rollover): any one of them may have signed. The key is
    // imported for the CRL's own signature algorithm, as OpenSSL does: CFSSL signs its CA
    // certificates with SHA-512 but its CRLs with SHA-256, and passing the certificate itself
    // would import the key for the certificate's hash and refuse every such CRL.
    if (await crl.verify({ publicKey: ca.publicKey }).catch(() => false)) return null;
  }
  s.log.error(
    "refusing a CRL that does not verify against a trusted CA; keeping the list in use",
    {
      path: s.path,
      issuer,
      issuer_known: candidates.length > 0,
    },
  );
  return candidates.length > 0
    ? `the CRL of "${issuer}" does not verify against its CA's key`
    : `the CRL of "${issuer}" has no trusted CA of that name`;
}

/** Why `crl` may not replace its issuer's list in force, or `null` when it may. */
function _replayed(s: CrlSource, crl: x509.X509Crl, issuer: string): string | null {
  const current = s.lists.get(issuer);
  if (current !== undefined && crl.thisUpdate < current.thisUpdate) {
    // A replayed older CRL would un-revoke everyone revoked since.
    s.log.error("refusing a CRL older than the one in use", {
      path: s.path,
      issuer,
      this_update: crl.thisUpdate,
      in_use_since: current.thisUpdate,
    });
    return `the CRL of "${issuer}" is older than the one in use (a replay?)`;
  }
  return null;
}

/** Puts `crl` in force as its issuer's list. */
function _take(s: CrlSource, crl: x509.X509Crl, issuer: string): void {
  const serials = new Set(crl.entries.map((entry) => normaliseSerial(entry.serialNumber)));
  s.lists.set(issuer, { serials, thisUpdate: crl.thisUpdate, nextUpdate: crl.nextUpdate ?? null });
  s.log.info("loaded CRL", {
    path: s.path,
    issuer,
    revoked: serials.size,
    this_update: crl.thisUpdate,
    next_update: crl.nextUpdate ?? null,
  });
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
