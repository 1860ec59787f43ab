/**
 * @module The user-lifecycle callbacks (`/api/v1/users/*`), for RM only (declared with
 * `caller("rm-direct")`, enforced before the handler by `callers.ts`): validate, map the callsign
 * to a Matrix ID, hand over to the lifecycle, and report honestly what became of it.
 */
import { createRoute } from "@hono/zod-openapi";
import type { App, AppDeps } from "../deps.ts";
import { ApiError } from "../errors.ts";
import { deploymentFacts, personIdOf } from "../content/facts.ts";
import { rmOwnAccount } from "../../matrix/mxid.ts";
import { caller } from "../callers.ts";
import { OperationResultResponse, UserCRUDRequest } from "../schemas.ts";
import type { LifecycleAction } from "../../lifecycle/lifecycle.ts";
import { errorResponses } from "./common.ts";

const ROUTES: ReadonlyArray<{ action: LifecycleAction; method: "post" | "put"; summary: string }> =
  [
    {
      action: "created",
      method: "post",
      summary: "Person enrolled: join the Space and public rooms",
    },
    { action: "revoked", method: "post", summary: "Certificate revoked: deactivate and erase" },
    { action: "promoted", method: "post", summary: "Made admin: power level 100, join admin room" },
    {
      action: "demoted",
      method: "post",
      summary: "Admin removed: default power level, leave admin room",
    },
    { action: "updated", method: "put", summary: "Callsign updated: nothing changes in Matrix" },
  ];

export function registerUserRoutes(app: App, deps: AppDeps): void {
  const facts = deploymentFacts(deps.config);
  // RM announces its own accounts like people; each is logged once per process, then only answered.
  const ignoredOwn = new Set<string>();
  for (const { action, method, summary } of ROUTES) {
    const route = createRoute({
      method,
      path: `/api/v1/users/${action}`,
      tags: ["users"],
      summary,
      ...caller("rm-direct"),
      request: {
        body: { required: true, content: { "application/json": { schema: UserCRUDRequest } } },
      },
      responses: {
        200: {
          description: "Applied, or durably accepted for later (see `extra`)",
          content: { "application/json": { schema: OperationResultResponse } },
        },
        ...errorResponses(400, 403, 409, 413, 415, 422, 503),
      },
    });
    app.openapi(route, async function handleUserEvent(c) {
      const body = c.req.valid("json");
      const own = rmOwnAccount(body.callsign, deps.config.rmOwnCallsigns);
      if (own !== null) {
        if (!ignoredOwn.has(body.callsign)) {
          ignoredOwn.add(body.callsign);
          deps.log.info("ignoring a callback for Rasenmaeher's own account", {
            action,
            callsign: body.callsign,
          });
        }
        return c.json({ success: true, extra: `ignored: ${own}`, error: null }, 200);
      }
      const userId = personIdOf(body.callsign, facts);
      const outcome = await deps.lifecycle.submit({
        action,
        userId,
        callsign: body.callsign,
        uuid: body.uuid,
        receivedAt: new Date(),
      });
      if (outcome.kind === "unavailable") throw new ApiError("unavailable", outcome.reason);
      if (outcome.kind === "conflict") throw new ApiError("conflict", outcome.reason);
      return c.json(
        { success: true, extra: `${outcome.kind}: ${outcome.detail}`, error: null },
        200,
      );
    });
  }
}
