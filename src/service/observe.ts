/**
 * @module What the service says about itself: the healthcheck's answer, the status snapshot,
 * and the gauges refreshed at every `/metrics` scrape.
 */
import type { Config } from "../config/config.ts";
import { CERTIFICATE_PHASES, type CertificateManager } from "../certificate/manager.ts";
import { OIDC_PHASES, type OidcRegistration } from "../keycloak/oidc_client.ts";
import { BOOTSTRAP_PHASES } from "../bootstrap/bootstrap.ts";
import type { BotSession } from "../bot/session.ts";
import type { Worker } from "../lifecycle/worker.ts";
import type { Registry } from "../metrics/registry.ts";
import type { HealthReport, ServiceSnapshot } from "../status/report.ts";
import type { Supervisor } from "./supervise.ts";
import { summariseHealth } from "./health.ts";
import { MTLS_LISTENER_PHASES, type MtlsListenerState } from "../transport/listener_state.ts";

export interface ObserverOptions {
  readonly config: Config;
  readonly startedAt: Date;
  readonly clock: () => Date;
  readonly session: BotSession;
  readonly certificate: CertificateManager;
  readonly oidc: OidcRegistration;
  readonly worker: Worker;
  readonly supervisor: Supervisor;
  readonly metrics: Registry;
  readonly mtls: MtlsListenerState;
}

export interface Observer {
  health(): HealthReport;
  snapshot(): Promise<ServiceSnapshot>;
}

export function createObserver(o: ObserverOptions): Observer {
  o.metrics.onScrape(async () => {
    const pending = await o.worker.pending();
    o.metrics.set("matrixrmapi_pending_wishes", pending.count);
    o.metrics.set("matrixrmapi_pending_oldest_age_seconds", pending.oldestAgeSeconds ?? 0);
    const phase = o.session.status().phase;
    o.metrics.set("matrixrmapi_bootstrap_ready", phase === "ready" ? 1 : 0);
    _phases(o.metrics, "matrixrmapi_bootstrap_phase", BOOTSTRAP_PHASES, phase);
    const cert = o.certificate.status();
    _phases(o.metrics, "matrixrmapi_certificate_phase", CERTIFICATE_PHASES, cert.phase);
    o.metrics.set("matrixrmapi_certificate_failures", cert.attempt);
    _phases(o.metrics, "matrixrmapi_oidc_client_phase", OIDC_PHASES, o.oidc.status().phase);
    const mtls = o.mtls.status();
    _phases(o.metrics, "matrixrmapi_mtls_listener_phase", MTLS_LISTENER_PHASES, mtls.phase);
    o.metrics.set("matrixrmapi_crl_lists_in_force", mtls.crl?.inForce ?? 0);
    o.metrics.set("matrixrmapi_crl_problems", mtls.crl?.problems.length ?? 0);
    o.metrics.set("matrixrmapi_ocsp_lookups_total", mtls.ocsp?.lookups ?? 0);
    o.metrics.set("matrixrmapi_ocsp_failures_total", mtls.ocsp?.failures ?? 0);
    o.metrics.set("matrixrmapi_ocsp_revoked_total", mtls.ocsp?.revoked ?? 0);
    o.metrics.set("matrixrmapi_ocsp_degraded", (mtls.ocsp?.problems.length ?? 0) > 0 ? 1 : 0);
    if (cert.certificate !== null) {
      const days = (cert.certificate.notAfter.getTime() - o.clock().getTime()) / 86_400_000;
      o.metrics.set("matrixrmapi_certificate_expiry_days", days);
    }
  });
  return {
    health() {
      const h = summariseHealth(
        o.session.status(),
        o.startedAt,
        o.clock(),
        o.config.unhealthyAfterMs,
      );
      return {
        healthy: h.healthy,
        extra: `${h.extra}; certificate ${o.certificate.status().phase}; ` +
          `oidc client ${o.oidc.status().phase}${describeMtlsHealth(o.mtls)}`,
      };
    },
    async snapshot() {
      return {
        bootstrap: o.session.status(),
        certificate: o.certificate.status(),
        oidc: o.oidc.status(),
        pending: await o.worker.pending(),
        mtls: o.mtls.status(),
        tasks: o.supervisor.reports(),
        now: o.clock(),
      };
    },
  };
}

function _phases(
  metrics: Registry,
  name: string,
  phases: readonly string[],
  current: string,
): void {
  for (const p of phases) metrics.set(name, p === current ? 1 : 0, { phase: p });
}

/**
 * The listener's part of the health line: nothing while it is disabled or listening with every
 * CRL in force; otherwise what is wrong, so RM's health view shows it (health stays `true`: the
 * bootstrap decides that, and a refused server certificate or a CRL problem is not Synapse's).
 */
export function describeMtlsHealth(state: MtlsListenerState): string {
  const s = state.status();
  const parts: string[] = [];
  if (s.phase !== "disabled" && s.phase !== "listening") {
    parts.push(`mtls listener ${s.phase}${s.detail === null ? "" : `: ${s.detail}`}`);
  }
  if (s.phase === "listening" && s.crl !== null && !s.crl.configured) {
    parts.push("revocation by CRL off (no MTLS_CRL_PATH)");
  }
  if (s.crl !== null && s.crl.problems.length > 0) {
    parts.push(`revocation by CRL degraded: ${s.crl.problems.join("; ")}`);
  }
  if (s.ocsp !== null && s.ocsp.problems.length > 0) {
    const then = s.ocsp.mode === "required" ? "clients refused" : "the CRL decides";
    parts.push(`revocation by OCSP degraded (${then}): ${s.ocsp.problems.join("; ")}`);
  }
  return parts.map((p) => `; ${p}`).join("");
}
