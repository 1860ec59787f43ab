/**
 * @module A product pair someone else manages (a read-only mount, a Kubernetes Secret that
 * cert-manager renews): read it, take it again when it changes, never enrol, renew or write.
 */
import { readStored } from "./files.ts";
import { type CertificateTask, checkStoredPair, DAY_MS, factsLog, WARN_DAYS } from "./task.ts";

/** One look at the external pair; returns how long to wait before the next. */
export async function watchExternal(t: CertificateTask): Promise<number> {
  const { o } = t;
  const stored = await readStored(o.paths);
  const where = `the externally managed product pair (${o.paths.certPath}, ${o.paths.keyPath})`;
  if (stored.certPem === null || stored.keyPem === null) {
    const missing = stored.certPem === null ? "no certificate" : "no private key";
    _once(
      t,
      "blocked",
      `${where} is incomplete: ${missing}; whoever manages it must provide both ` +
        "(this service never enrols an external pair)",
    );
    return t.watchMs;
  }
  const check = await checkStoredPair(t, stored.certPem, stored.keyPem);
  if (!check.ok) {
    const expired = check.expired;
    _once(
      t,
      expired ? "expired" : "blocked",
      `${where} is not usable: ${check.reason}; fix it where it is managed ` +
        "(this service never renews or rewrites an external pair)",
    );
    return t.watchMs;
  }
  const current = t.identity();
  const changed = current?.certPem !== stored.certPem || current?.keyPem !== stored.keyPem;
  if (changed) {
    for (const warning of check.warnings) o.log.warn(`product certificate: ${warning}`);
    t.publish({ certPem: stored.certPem, keyPem: stored.keyPem, facts: check.facts });
    o.log.info("externally managed product certificate in use", factsLog(check.facts));
  }
  const left = check.facts.notAfter.getTime() - t.now().getTime();
  const phase = t.phases.status().phase;
  if (left < WARN_DAYS * DAY_MS && (changed || phase !== "ready")) {
    o.log.error("the externally managed product certificate expires soon", {
      days_left: Math.floor(left / DAY_MS * 10) / 10,
      not_after: check.facts.notAfter.toISOString(),
    });
  }
  if (phase !== "ready") t.phases.succeed("ready");
  return t.watchMs;
}

/** Records a problem of an external pair; logged when it first appears, not at every look. */
function _once(t: CertificateTask, phase: "blocked" | "expired", message: string): void {
  const status = t.phases.status();
  if (status.phase === phase && status.lastError === message) return;
  t.failed(phase, message, true);
}
