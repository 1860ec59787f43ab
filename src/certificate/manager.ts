/**
 * @module The product's own mTLS identity as a background task that never gives up: use the pair
 * on the volume, or enrol one with the manifest's one-time `csr_jwt`; renew it over mTLS once two
 * thirds of its life have passed; tell every user of the identity when the pair changes. A pair
 * someone else manages is only watched (`external.ts`).
 */
import { sleep } from "../util/sleep.ts";
import { readStored, removeIfExists, stagedPaths, type StoredPair } from "./files.ts";
import { keyMatchesCertificate } from "./keys.ts";
import { parseBundle } from "./verify.ts";
import type { CertificateManagerOptions, ProductIdentity } from "./types.ts";
import { renewAt } from "./types.ts";
import {
  type CertificateTask,
  checkStoredPair,
  createCertificateTask,
  DAY_MS,
  factsLog,
  WARN_DAYS,
} from "./task.ts";
import { watchExternal } from "./external.ts";
import { enrol, renew } from "./enrolment.ts";

export {
  CERTIFICATE_PHASES,
  type CertificateManagedBy,
  type CertificateManager,
  type CertificateManagerOptions,
  type CertificatePhase,
  type CertificateStatus,
  type ProductIdentity,
  RENEW_AT_FRACTION,
  renewAt,
} from "./types.ts";
import type { CertificateManager } from "./types.ts";

export function createCertificateManager(o: CertificateManagerOptions): CertificateManager {
  const t = createCertificateTask(o);
  const external = (o.managedBy ?? "self") === "external";
  return {
    async run(signal) {
      while (!signal.aborted) {
        let waitMs: number;
        try {
          waitMs = external ? await watchExternal(t) : await _step(t);
        } catch (err) {
          const phase = t.phases.status().phase;
          waitMs = t.retryMs(t.failed(phase, `product certificate: ${_explain(err)}`, true));
        }
        await sleep(waitMs, signal);
      }
      t.wake();
    },
    status: t.phases.status,
    current: t.identity,
    whenReady: t.whenReady,
    onChange: t.onChange,
  };
}

/** One look at the volume and what follows from it; returns how long to wait before the next. */
async function _step(t: CertificateTask): Promise<number> {
  const { o } = t;
  const stored = await _completeStagedSwap(t, await readStored(o.paths));
  if (stored.certPem === null) return await enrol(t, stored.keyPem);
  if (stored.keyPem === null) {
    return t.blocked(
      `the product certificate ${o.paths.certPath} has no private key at ${o.paths.keyPath}; ` +
        "restore the key, or move the certificate aside to enrol anew with a fresh csr_jwt",
      "blocked",
    );
  }
  const check = await checkStoredPair(t, stored.certPem, stored.keyPem);
  if (!check.ok) {
    const expired = check.expired;
    return t.blocked(
      `the product certificate at ${o.paths.certPath} is not usable: ${check.reason}. ` +
        (expired
          ? "RM renews only a valid certificate: move the expired pair aside and put a new " +
            "csr_jwt in the manifest (miniwerk writes one with a new manifest) to enrol anew"
          : "Restore a matching pair, or move both files aside and provide a new csr_jwt"),
      expired ? "expired" : "blocked",
    );
  }
  for (const warning of check.warnings) o.log.warn(`product certificate: ${warning}`);
  const mine: ProductIdentity = {
    certPem: stored.certPem,
    keyPem: stored.keyPem,
    facts: check.facts,
  };
  t.publish(mine);
  const due = renewAt(check.facts).getTime();
  const left = check.facts.notAfter.getTime() - t.now().getTime();
  if (left < WARN_DAYS * DAY_MS) {
    o.log.error("the product certificate expires soon", {
      days_left: Math.floor(left / DAY_MS * 10) / 10,
      not_after: check.facts.notAfter.toISOString(),
      last_renewal_error: t.phases.status().lastError,
    });
  }
  if (t.now().getTime() < due) {
    if (t.phases.status().phase !== "ready") {
      o.log.info("product certificate in use", factsLog(check.facts));
      t.phases.succeed("ready");
    }
    return Math.max(0, Math.min(due - t.now().getTime(), t.recheckMs));
  }
  return await renew(t, mine);
}

/** Finishes a renewal swap that a crash interrupted; drops stale staged files. */
async function _completeStagedSwap(t: CertificateTask, stored: StoredPair): Promise<StoredPair> {
  const staged = stagedPaths(t.o.paths);
  const stagedPair = await readStored(staged);
  let result = stored;
  if (stagedPair.certPem !== null && stored.keyPem !== null && stored.certPem !== null) {
    const current = await _matches(stored.keyPem, stored.certPem);
    if (!current && await _matches(stored.keyPem, stagedPair.certPem)) {
      await Deno.rename(staged.certPath, t.o.paths.certPath);
      t.o.log.warn(
        "completed a certificate renewal that was interrupted between key and certificate",
      );
      result = { ...stored, certPem: stagedPair.certPem };
    }
  }
  await removeIfExists(staged.certPath);
  await removeIfExists(staged.keyPath);
  return result;
}

async function _matches(keyPem: string, certPem: string): Promise<boolean> {
  try {
    return await keyMatchesCertificate(keyPem, parseBundle(certPem)[0]!);
  } catch {
    return false;
  }
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
