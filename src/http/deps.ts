/**
 * @module What the HTTP layer needs from the rest of the service (`AppDeps`), and the app's type.
 * The routes and `app.ts` import these types from here, never from each other. Everything the
 * service hands over is a typed snapshot of the domain; the routes alone shape the JSON.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Config } from "../config/config.ts";
import type { Lifecycle } from "../lifecycle/lifecycle.ts";
import type { PendingStatus } from "../lifecycle/worker.ts";
import type { Logger } from "../log/logger.ts";
import type { BootstrapStatus } from "../bootstrap/bootstrap.ts";
import type { CertificateStatus } from "../certificate/manager.ts";
import type { OidcStatus } from "../keycloak/oidc_client.ts";
import type { ReconcileReport } from "../reconcile/reconcile.ts";
import type { IdentityEnv } from "./identity.ts";
import type { MtlsListenerStatus } from "../transport/listener_state.ts";
import type { Interop, InteropStatus } from "../interop/interop.ts";

export type App = OpenAPIHono<IdentityEnv>;

export interface HealthReport {
  readonly healthy: boolean;
  readonly extra: string | null;
}

/** One background task of the service, as its supervisor sees it. */
export interface TaskReport {
  readonly name: string;
  /** `running`, `restarting` after it failed, or `stopped`. */
  readonly state: "running" | "restarting" | "stopped";
  /** How often it failed (a periodic task: how many runs failed). */
  readonly failures: number;
  readonly lastError: string | null;
  readonly lastErrorAt: Date | null;
}

/** The service's own state at one moment, for `GET /api/v1/status`. */
export interface ServiceSnapshot {
  readonly bootstrap: BootstrapStatus;
  readonly certificate: CertificateStatus;
  readonly oidc: OidcStatus;
  readonly pending: PendingStatus;
  /** The direct mTLS listener and the revocation it enforces. */
  readonly mtls: MtlsListenerStatus;
  readonly tasks: readonly TaskReport[];
  /** Interop grants and the ingest bot (never its token); absent where interop is not built. */
  readonly interop?: InteropStatus;
  readonly now: Date;
}

/** Everything the HTTP layer needs; built by the service, or by tests with fakes where useful. */
export interface AppDeps {
  readonly config: Config;
  readonly lifecycle: Lifecycle;
  /** Current health, for the healthcheck endpoint. */
  readonly health: () => Promise<HealthReport> | HealthReport;
  /** The service's own state, for `GET /api/v1/status`. */
  readonly status: () => Promise<ServiceSnapshot> | ServiceSnapshot;
  /** Prometheus text for `/metrics`. */
  readonly metrics: () => Promise<string>;
  /** Runs reconciliation now; `null` when it is off or cannot run yet. */
  readonly reconcile: (dryRun: boolean) => Promise<ReconcileReport | null>;
  /** Product interop; its routes answer 503 when absent. */
  readonly interop?: Interop;
  readonly log: Logger;
}
