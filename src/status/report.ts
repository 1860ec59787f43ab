/**
 * @module The service's state as it reports it: its health, its background tasks, and the whole
 * snapshot behind `GET /api/v1/status`. The service produces these (`src/service/observe.ts`,
 * `supervise.ts`); the HTTP layer and the CLI only read them.
 */
import type { PendingStatus } from "../lifecycle/worker.ts";
import type { BootstrapStatus } from "../bootstrap/bootstrap.ts";
import type { CertificateStatus } from "../certificate/manager.ts";
import type { OidcStatus } from "../keycloak/oidc_client.ts";
import type { MtlsListenerStatus } from "../transport/listener_state.ts";
import type { InteropStatus } from "../interop/interop.ts";

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
