/**
 * @module The product's own mTLS identity as a background task that never gives up: use the pair
 * on the volume, or enrol one with the manifest's one-time `csr_jwt`; renew it over mTLS once two
 * thirds of its life have passed; tell every user of the identity when the pair changes.
 */
import { createPhases, type PhaseStatus } from "../util/phases.ts";
import { createWaiters } from "../util/waiters.ts";
import type { Logger } from "../log/logger.ts";
import type { RmProductApi, SignResult } from "../rm/product_api.ts";
import { backoffMs, sleep } from "../util/sleep.ts";
import {
  type PairPaths,
  readStored,
  removeIfExists,
  setAside,
  stagedPaths,
  type StoredPair,
  swapPair,
  writeAtomic,
  writePair,
} from "./files.ts";
import {
  buildCsr,
  generateKeyPair,
  importRsaKeyPair,
  keyMatchesCertificate,
  privateKeyPem,
} from "./keys.ts";
import { type CertificateFacts, checkPair, factsOf, parseBundle } from "./verify.ts";
import { csrJwtExpiry } from "./jwt.ts";

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
interface CertificateExtra {
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
const DAY_MS = 86_400_000;
const WARN_DAYS = 7;

export function renewAt(facts: CertificateFacts): Date {
  const start = facts.notBefore.getTime();
  return new Date(start + (facts.notAfter.getTime() - start) * RENEW_AT_FRACTION);
}

export function createCertificateManager(o: CertificateManagerOptions): CertificateManager {
  const now = o.now ?? (() => new Date());
  const [firstMs, capMs] = o.retryMs ?? [1000, 60_000];
  const blockedMs = o.blockedRetryMs ?? 300_000;
  const recheckMs = o.recheckMs ?? 3_600_000;
  const newKeys = o.newKeys ?? generateKeyPair;
  const log = o.log;
  const managedBy = o.managedBy ?? "self";
  const external = managedBy === "external";
  const watchMs = o.watchMs ?? 10_000;
  const phases = createPhases<CertificatePhase, CertificateExtra>(
    "loading",
    { certificate: null, managedBy },
    now,
  );
  const status = phases.status;
  let identity: ProductIdentity | null = null;
  const listeners = new Set<(identity: ProductIdentity) => void>();
  const waiting = createWaiters(() => identity);

  const enter = phases.enter;
  const succeeded = phases.succeed;

  function failed(phase: CertificatePhase, message: string, loud: boolean): number {
    const attempt = phases.fail(phase, message);
    if (loud) log.error(message, { phase, attempt });
    else log.warn(message, { phase, attempt });
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
        log.error("a user of the product certificate failed to take the new pair", { error: err });
      }
    }
  }

  /** Finishes a renewal swap that a crash interrupted; drops stale staged files. */
  async function completeStagedSwap(stored: StoredPair): Promise<StoredPair> {
    const staged = await readStored(stagedPaths(o.paths));
    let result = stored;
    if (staged.certPem !== null && stored.keyPem !== null && stored.certPem !== null) {
      const current = await _matches(stored.keyPem, stored.certPem);
      if (!current && await _matches(stored.keyPem, staged.certPem)) {
        await Deno.rename(stagedPaths(o.paths).certPath, o.paths.certPath);
        log.warn(
          "completed a certificate renewal that was interrupted between key and certificate",
        );
        result = { ...stored, certPem: staged.certPem };
      }
    }
    await removeIfExists(stagedPaths(o.paths).certPath);
    await removeIfExists(stagedPaths(o.paths).keyPath);
    return result;
  }

  /** One look at the volume and what follows from it; returns how long to wait before the next. */
  async function step(): Promise<number> {
    if (external) return await watchExternal();
    const stored = await completeStagedSwap(await readStored(o.paths));
    if (stored.certPem === null) return await enrol(stored.keyPem);
    if (stored.keyPem === null) {
      return blocked(
        `the product certificate ${o.paths.certPath} has no private key at ${o.paths.keyPath}; ` +
          "restore the key, or move the certificate aside to enrol anew with a fresh csr_jwt",
        "blocked",
      );
    }
    const caPems = await o.caPems();
    const check = await checkPair({
      certPem: stored.certPem,
      keyPem: stored.keyPem,
      caPems,
      now: now(),
      expectedCn: o.cn,
      chainIsWarning: true,
    });
    if (!check.ok) {
      const expired = check.facts !== null && now() >= check.facts.notAfter;
      return blocked(
        `the product certificate at ${o.paths.certPath} is not usable: ${check.reason}. ` +
          (expired
            ? "RM renews only a valid certificate: move the expired pair aside and put a new " +
              "csr_jwt in the manifest (miniwerk writes one with a new manifest) to enrol anew"
            : "Restore a matching pair, or move both files aside and provide a new csr_jwt"),
        expired ? "expired" : "blocked",
      );
    }
    for (const warning of check.warnings) log.warn(`product certificate: ${warning}`);
    const mine: ProductIdentity = {
      certPem: stored.certPem,
      keyPem: stored.keyPem,
      facts: check.facts,
    };
    publish(mine);
    const due = renewAt(check.facts).getTime();
    const left = check.facts.notAfter.getTime() - now().getTime();
    if (left < WARN_DAYS * DAY_MS) {
      log.error("the product certificate expires soon", {
        days_left: Math.floor(left / DAY_MS * 10) / 10,
        not_after: check.facts.notAfter.toISOString(),
        last_renewal_error: status().lastError,
      });
    }
    if (now().getTime() < due) {
      if (status().phase !== "ready") {
        log.info("product certificate in use", _factsLog(check.facts));
        succeeded("ready");
      }
      return Math.max(0, Math.min(due - now().getTime(), recheckMs));
    }
    return await renew(mine);
  }

  /** An externally managed pair: read it, take it when it changed, never write anything. */
  async function watchExternal(): Promise<number> {
    const stored = await readStored(o.paths);
    const where = `the externally managed product pair (${o.paths.certPath}, ${o.paths.keyPath})`;
    if (stored.certPem === null || stored.keyPem === null) {
      const missing = stored.certPem === null ? "no certificate" : "no private key";
      _once(
        "blocked",
        `${where} is incomplete: ${missing}; whoever manages it must provide both ` +
          "(this service never enrols an external pair)",
      );
      return watchMs;
    }
    const check = await checkPair({
      certPem: stored.certPem,
      keyPem: stored.keyPem,
      caPems: await o.caPems(),
      now: now(),
      expectedCn: o.cn,
      chainIsWarning: true,
    });
    if (!check.ok) {
      const expired = check.facts !== null && now() >= check.facts.notAfter;
      _once(
        expired ? "expired" : "blocked",
        `${where} is not usable: ${check.reason}; fix it where it is managed ` +
          "(this service never renews or rewrites an external pair)",
      );
      return watchMs;
    }
    const changed = identity?.certPem !== stored.certPem || identity?.keyPem !== stored.keyPem;
    if (changed) {
      for (const warning of check.warnings) log.warn(`product certificate: ${warning}`);
      publish({ certPem: stored.certPem, keyPem: stored.keyPem, facts: check.facts });
      log.info("externally managed product certificate in use", _factsLog(check.facts));
    }
    const left = check.facts.notAfter.getTime() - now().getTime();
    if (left < WARN_DAYS * DAY_MS && (changed || status().phase !== "ready")) {
      log.error("the externally managed product certificate expires soon", {
        days_left: Math.floor(left / DAY_MS * 10) / 10,
        not_after: check.facts.notAfter.toISOString(),
      });
    }
    if (status().phase !== "ready") succeeded("ready");
    return watchMs;
  }

  /** Records a problem of an external pair; logged when it first appears, not at every look. */
  function _once(phase: "blocked" | "expired", message: string): void {
    if (status().phase === phase && status().lastError === message) return;
    failed(phase, message, true);
  }

  function blocked(message: string, phase: "blocked" | "expired"): number {
    failed(phase, message, true);
    return blockedMs;
  }

  async function enrol(existingKeyPem: string | null): Promise<number> {
    if (status().phase === "loading") enter("enrolling");
    const jwt = (await o.csrJwt())?.trim() ?? "";
    if (jwt === "") {
      return blocked(
        `no product certificate at ${o.paths.certPath} and no rasenmaeher.init.csr_jwt in the ` +
          "manifest: mount the manifest kraftwerk wrote, or place the certificate and key there",
        "blocked",
      );
    }
    const expiry = csrJwtExpiry(jwt);
    if (expiry !== null && expiry <= now()) {
      return blocked(
        `the manifest's csr_jwt expired at ${expiry.toISOString()} (it is valid for 24 h and ` +
          "works once): have miniwerk issue a new manifest with a fresh csr_jwt",
        "blocked",
      );
    }
    let keys: CryptoKeyPair | null = null;
    let keyPem = existingKeyPem;
    if (keyPem !== null) {
      try {
        keys = await importRsaKeyPair(keyPem);
        log.info("reusing the key a previous enrolment attempt wrote", { path: o.paths.keyPath });
      } catch (err) {
        const aside = await setAside(o.paths.keyPath, now());
        log.warn("set an unreadable product key aside", { moved_to: aside, error: err });
        keyPem = null;
      }
    }
    if (keys === null || keyPem === null) {
      keys = await newKeys();
      keyPem = await privateKeyPem(keys);
      await writeAtomic(o.paths.keyPath, keyPem, 0o600); // the key first: a crash keeps it
    }
    const csr = await buildCsr(keys, o.cn);
    const reply = await o.rm.signCsr(csr, jwt);
    const certPem = await accept(reply, keyPem, o.cn, "enrolment");
    if (typeof certPem === "number") return certPem;
    await writePair(o.paths, keyPem, certPem);
    log.info("product certificate enrolled", { cn: o.cn, path: o.paths.certPath });
    return 0; // look again at once: publishes the pair, then reports ready
  }

  async function renew(current: ProductIdentity): Promise<number> {
    enter("renewing");
    const cn = current.facts.cn ?? o.cn; // RM renews only for the caller's own name
    const keys = await newKeys();
    const keyPem = await privateKeyPem(keys);
    const reply = await o.rm.renewCsr(await buildCsr(keys, cn), current);
    const certPem = await accept(reply, keyPem, cn, "renewal");
    if (typeof certPem === "number") return certPem;
    await swapPair(o.paths, keyPem, certPem);
    log.info("product certificate renewed", _factsLog(factsOf(parseBundle(certPem)[0]!)));
    return 0; // look again at once: publishes the new pair, then reports ready
  }

  /** The verified certificate PEM from RM's reply, or how long to wait after a failure. */
  async function accept(
    reply: SignResult,
    keyPem: string,
    cn: string,
    what: "enrolment" | "renewal",
  ): Promise<string | number> {
    const phase = what === "enrolment" ? "enrolling" : "renewing";
    if (!reply.ok) {
      if (reply.kind === "unreachable") {
        const n = failed(
          what === "enrolment" ? "waiting_for_rm" : phase,
          `product certificate ${what}: ${reply.message}; retrying`,
          what === "renewal",
        );
        return backoffMs(n - 1, firstMs, capMs);
      }
      if (what === "enrolment" && reply.kind === "refused") {
        return blocked(
          `RM refused to sign the product certificate with the manifest's csr_jwt (${reply.message}). ` +
            "The csr_jwt works once and for 24 h: if this volume lost the certificate it got, " +
            "restore private/ and public/ from a backup, or have miniwerk issue a new manifest",
          "blocked",
        );
      }
      const n = failed(phase, `product certificate ${what}: ${reply.message}`, true);
      return backoffMs(n - 1, firstMs, capMs);
    }
    const check = await checkPair({
      certPem: reply.certificatePem,
      keyPem,
      caPems: await o.caPems(),
      now: now(),
      requireCn: cn,
    });
    if (!check.ok) {
      const n = failed(
        phase,
        `product certificate ${what}: refused RM's certificate: ${check.reason}`,
        true,
      );
      return backoffMs(n - 1, firstMs, capMs);
    }
    return _withNewline(reply.certificatePem);
  }

  return {
    async run(signal) {
      while (!signal.aborted) {
        let waitMs: number;
        try {
          waitMs = await step();
        } catch (err) {
          const n = failed(status().phase, `product certificate: ${_explain(err)}`, true);
          waitMs = backoffMs(n - 1, firstMs, capMs);
        }
        await sleep(waitMs, signal);
      }
      waiting.wake();
    },
    status,
    current: () => identity,
    whenReady: (signal) => waiting.wait(signal),
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

async function _matches(keyPem: string, certPem: string): Promise<boolean> {
  try {
    return await keyMatchesCertificate(keyPem, parseBundle(certPem)[0]!);
  } catch {
    return false;
  }
}

function _factsLog(f: CertificateFacts): Record<string, unknown> {
  return {
    cn: f.cn,
    serial: f.serial,
    not_after: f.notAfter.toISOString(),
    renew_at: renewAt(f).toISOString(),
  };
}

function _withNewline(pem: string): string {
  return pem.endsWith("\n") ? pem : `${pem}\n`;
}

/** The error, and what to do when the pair's files cannot be written at all. */
function _explain(err: unknown): string {
  const message = (err as Error).message;
  const unwritable = err instanceof Deno.errors.PermissionDenied ||
    err instanceof Deno.errors.NotCapable || /read-only file system|EROFS/i.test(message);
  return unwritable
    ? `${message} — the pair's files cannot be written here; if someone else manages them ` +
      "(a read-only mount, a Secret), set CLIENT_CERT_MANAGED_BY=external"
    : message;
}
