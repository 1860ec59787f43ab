/**
 * @module The CRL guard: which certificate serials the CA has revoked, from a file holding one or
 * more CRLs (PEM or DER), each verified against its issuing CA, re-read when the file changes.
 */
import * as x509 from "./x509.ts";
import { normaliseSerial } from "./serial.ts";
import type { Logger } from "../log/logger.ts";

export interface CrlGuard {
  /** True when `serial` is on the CRL of `issuer` (an issuer name as @peculiar/x509 prints it). */
  isRevoked(serial: string, issuer: string): boolean;
  /** Re-reads the file now if it changed (the poll does this on its own). */
  refresh(): Promise<void>;
  close(): Promise<void>;
}

export interface CrlGuardOptions {
  /** CRL file; `null` = no revocation checking (logged). */
  readonly path: string | null;
  /** CA certificates (PEM) that may have issued the CRLs. */
  readonly caPems: readonly string[];
  readonly log: Logger;
  /** How often the file's metadata is checked for changes. @default 2000 */
  readonly pollMs?: number;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

interface IssuerList {
  readonly serials: ReadonlySet<string>;
  readonly nextUpdate: Date | undefined;
}

const PEM_CRL = /-----BEGIN (?:X509 )?CRL-----[\s\S]+?-----END (?:X509 )?CRL-----/g;
const STALE_LOG_INTERVAL_MS = 3_600_000;

/**
 * Builds a guard and loads the file once. A missing or unreadable file, or a CRL that does not
 * verify, is logged as an error and changes nothing: the last good list of that issuer stays.
 */
export async function createCrlGuard(options: CrlGuardOptions): Promise<CrlGuard> {
  const { path, log } = options;
  const now = options.now ?? (() => new Date());
  const cas = options.caPems.map((pem) => new x509.X509Certificate(pem));
  const lists = new Map<string, IssuerList>();
  let fingerprint = "";
  let lastStaleLog = 0;
  let timer: ReturnType<typeof setInterval> | undefined;

  if (path === null) {
    log.warn("no MTLS_CRL_PATH: revoked certificates are not refused");
    return {
      isRevoked: () => false,
      refresh: () => Promise.resolve(),
      close: () => Promise.resolve(),
    };
  }

  async function refresh(): Promise<void> {
    let stat: Deno.FileInfo;
    try {
      stat = await Deno.stat(path!);
    } catch (err) {
      if (fingerprint !== "missing") log.error("cannot read the CRL file", { path, error: err });
      fingerprint = "missing";
      return;
    }
    const next = `${stat.ino}:${stat.size}:${stat.mtime?.getTime()}`;
    if (next !== fingerprint) {
      fingerprint = next;
      await _load();
    }
    _warnIfStale();
  }

  async function _load(): Promise<void> {
    let bytes: Uint8Array<ArrayBuffer>;
    try {
      bytes = await Deno.readFile(path!);
    } catch (err) {
      log.error("cannot read the CRL file", { path, error: err });
      return;
    }
    for (const der of _splitCrls(bytes)) {
      let crl: x509.X509Crl;
      try {
        crl = new x509.X509Crl(der);
      } catch (err) {
        log.error("cannot parse a CRL; keeping the previous list", { path, error: err });
        continue;
      }
      const issuer = crl.issuerName.toString();
      const ca = cas.find((c) => c.subjectName.toString() === issuer);
      if (ca === undefined || !(await crl.verify({ publicKey: ca }))) {
        log.error(
          "refusing a CRL that does not verify against a known CA; keeping the previous list",
          {
            path,
            issuer,
            known_issuer: ca !== undefined,
          },
        );
        continue;
      }
      const serials = new Set(crl.entries.map((e) => normaliseSerial(e.serialNumber)));
      lists.set(issuer, { serials, nextUpdate: crl.nextUpdate });
      log.info("loaded CRL", { path, issuer, revoked: serials.size, next_update: crl.nextUpdate });
    }
    lastStaleLog = 0;
  }

  function _warnIfStale(): void {
    const t = now().getTime();
    if (t - lastStaleLog < STALE_LOG_INTERVAL_MS) return;
    for (const [issuer, list] of lists) {
      if (list.nextUpdate !== undefined && list.nextUpdate.getTime() < t) {
        lastStaleLog = t;
        log.error("CRL is past its nextUpdate: the CA has not published a fresh one", {
          path,
          issuer,
          next_update: list.nextUpdate,
        });
      }
    }
  }

  await refresh();
  const interval = setInterval(() => {
    refresh().catch((err) => log.error("CRL refresh failed", { path, error: err }));
  }, options.pollMs ?? 2000);
  Deno.unrefTimer(interval); // the poll alone must not keep the process alive
  timer = interval;

  return {
    isRevoked(serial, issuer) {
      return lists.get(issuer)?.serials.has(normaliseSerial(serial)) ?? false;
    },
    refresh,
    close() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      return Promise.resolve();
    },
  };
}

/** PEM blocks, or DER structures laid end to end (the CA's `crl.der` is two CRLs concatenated). */
function _splitCrls(bytes: Uint8Array): Uint8Array<ArrayBuffer>[] {
  const text = new TextDecoder("utf-8", { fatal: false }).decode(bytes);
  if (text.includes("-----BEGIN")) {
    return (text.match(PEM_CRL) ?? []).map((pem) =>
      Uint8Array.from(
        atob(pem.replace(/-----[A-Z0-9 ]+-----|\s/g, "")),
        (c) => c.charCodeAt(0),
      )
    );
  }
  const out: Uint8Array<ArrayBuffer>[] = [];
  let i = 0;
  while (i + 2 <= bytes.length && bytes[i] === 0x30) {
    const lenByte = bytes[i + 1]!;
    let len = lenByte;
    let header = 2;
    if (lenByte & 0x80) {
      const n = lenByte & 0x7f;
      if (n === 0 || n > 4 || i + 2 + n > bytes.length) break;
      len = 0;
      for (let k = 0; k < n; k++) len = len * 256 + bytes[i + 2 + k]!;
      header = 2 + n;
    }
    if (i + header + len > bytes.length) break;
    out.push(bytes.slice(i, i + header + len));
    i += header + len;
  }
  return out;
}
