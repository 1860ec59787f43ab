/**
 * @module What the HTTP layer needs from the rest of the service (`AppDeps`), and the app's type.
 * The routes and `app.ts` import these types from here, never from each other. Everything the
 * service hands over is a typed snapshot (`src/status/report.ts`); the routes alone shape the JSON.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Config } from "../config/config.ts";
import type { Lifecycle } from "../lifecycle/lifecycle.ts";
import type { Logger } from "../log/logger.ts";
import type { ReconcileReport } from "../reconcile/reconcile.ts";
import type { IdentityEnv } from "./identity.ts";
import type { Interop } from "../interop/interop.ts";
import type { HealthReport, ServiceSnapshot } from "../status/report.ts";

export type App = OpenAPIHono<IdentityEnv>;

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
