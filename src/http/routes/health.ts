/** @module The healthcheck RM polls (`/api/v1/healthcheck`), in the contract's shape. */
import { createRoute } from "@hono/zod-openapi";
import type { App, AppDeps } from "../deps.ts";
import { ProductHealthCheckResponse } from "../schemas.ts";
import { caller } from "../callers.ts";

const route = createRoute({
  method: "get",
  path: "/api/v1/healthcheck",
  tags: ["service"],
  summary: "Is the integration working?",
  ...caller("public", "Always HTTP 200 in the contract's shape; `healthy` carries the answer."),
  responses: {
    200: {
      description: "Health report",
      content: { "application/json": { schema: ProductHealthCheckResponse } },
    },
  },
});

export function registerHealthRoutes(app: App, deps: AppDeps): void {
  app.openapi(route, async function healthcheck(c) {
    const report = await deps.health();
    return c.json({ healthy: report.healthy, extra: report.extra }, 200);
  });
}
