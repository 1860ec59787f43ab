/**
 * @module The operator's endpoints on the plain listener: Prometheus `/metrics`, and
 * `POST /api/v1/reconcile` (from loopback only: the `reconcile` CLI inside the container).
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { App, AppDeps } from "../deps.ts";
import type { ReconcileReport } from "../../reconcile/reconcile.ts";
import { ApiError } from "../errors.ts";
import { errorResponses } from "./common.ts";
import { caller } from "../callers.ts";

export const ReconcileRequest = z.strictObject({ dry_run: z.boolean().optional() }).openapi(
  "ReconcileRequest",
);
export const ReconcileResponse = z.object({
  ok: z.boolean(),
  dry_run: z.boolean(),
  people: z.number().int(),
  changes: z.array(z.object({ user_id: z.string(), callsign: z.string(), action: z.string() })),
  drift_corrections: z.number().int(),
  error: z.string().nullable(),
}).openapi("ReconcileReport");
export type ReconcileResponse = z.infer<typeof ReconcileResponse>;

export function registerOperationsRoutes(app: App, deps: AppDeps): void {
  app.openapi(
    createRoute({
      method: "get",
      path: "/metrics",
      tags: ["operations"],
      summary: "Prometheus metrics (plain listener only)",
      ...caller("public"),
      responses: {
        200: {
          description: "Text exposition format",
          content: { "text/plain": { schema: z.string() } },
        },
        ...errorResponses(404),
      },
    }),
    async function metrics(c) {
      if (c.env?.transport?.kind === "mtls") {
        throw new ApiError("not_found", "Metrics are served on the plain listener");
      }
      const text = await deps.metrics();
      c.header("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
      return c.text(text, 200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" });
    },
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/api/v1/reconcile",
      tags: ["operations"],
      summary: "Run reconciliation with RM now (loopback callers on the plain listener only)",
      ...caller("operator"),
      request: {
        body: { required: true, content: { "application/json": { schema: ReconcileRequest } } },
      },
      responses: {
        200: {
          description: "Report",
          content: { "application/json": { schema: ReconcileResponse } },
        },
        ...errorResponses(400, 403, 413, 415, 422, 503),
      },
    }),
    async function reconcileNow(c) {
      const report = await deps.reconcile(c.req.valid("json").dry_run ?? false);
      if (report === null) {
        throw new ApiError(
          "unavailable",
          "Reconciliation is off: the manifest has no rasenmaeher.mtls.base_uri, or the bootstrap is not ready",
        );
      }
      return c.json(reconcileJson(report), 200);
    },
  );
}

/** A reconciliation report as the endpoint (and the `reconcile` command) shows it. */
export function reconcileJson(r: ReconcileReport): ReconcileResponse {
  return {
    ok: r.ok,
    dry_run: r.dryRun,
    people: r.people,
    changes: r.changes.map((c) => ({ user_id: c.userId, callsign: c.callsign, action: c.action })),
    drift_corrections: r.driftCorrections,
    error: r.error,
  };
}
