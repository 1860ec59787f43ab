/**
 * @module Product interop: RM grants a product (`POST /api/v1/interop/add`, also at the double
 * slash RM builds), and a granted product fetches the ingest bot's token
 * (`GET /api/v1/interop/authz`) with its own certificate.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { App, AppDeps } from "../deps.ts";
import { type IdentityEnv, requireCertificate } from "../identity.ts";
import { ApiError } from "../errors.ts";
import { caller } from "../callers.ts";
import { OperationResultResponse } from "../schemas.ts";
import { errorResponses } from "./common.ts";
import type { Interop } from "../../interop/interop.ts";

export const InteropAddRequest = z.strictObject({
  certcn: z.string().min(1).max(253).openapi({
    example: "battlelog.golden-monkey.dev.pvarki.fi",
    description: "The product's certificate CN (its `product.dns`): a DNS name.",
  }),
  x509cert: z.string().min(1).max(32 * 1024).openapi({
    description: "The product's certificate as PEM (newlines real or escaped as `\\n`); its CN " +
      "must equal `certcn` and it must chain to the deployment's CA.",
  }),
}).openapi("ProductAddRequest");

export const ProductAuthzResponse = z.strictObject({
  type: z.enum(["bearer-token", "basic", "mtls"]),
  token: z.string().nullable(),
  username: z.string().nullable(),
  password: z.string().nullable(),
  ro_password: z.string().nullable(),
}).openapi("ProductAuthzResponse");

/** The retry hint while the ingest bot does not exist yet. */
const RETRY_AFTER_S = "10";

const NOT_GRANTED = "This certificate is not granted interop";

const addRoute = (path: string) =>
  createRoute({
    method: "post",
    path,
    tags: ["interop"],
    summary: "Grant a product (BattleLog) read access through the ingest bot",
    ...caller(
      "rm-direct",
      "Forwarding a product's `POST /api/v1/product/interop/matrix`. Idempotent (RM repeats it at every start of the product). Also answered at " +
        "`//api/v1/interop/add`, the URL RM builds.",
    ),
    request: {
      body: { required: true, content: { "application/json": { schema: InteropAddRequest } } },
    },
    responses: {
      200: {
        description: "Granted (or granted before)",
        content: { "application/json": { schema: OperationResultResponse } },
      },
      ...errorResponses(400, 403, 413, 415, 422, 503),
    },
  });

const authzRoute = createRoute({
  method: "get",
  path: "/api/v1/interop/authz",
  tags: ["interop"],
  summary: "The ingest bot's device-bound Matrix token, for a granted product",
  ...caller(
    "certificate",
    "Granted only to a product whose certificate CN holds a grant; 403 for every other " +
      "certificate. 503 with `Retry-After` until the ingest bot exists.",
  ),
  responses: {
    200: {
      description: "Credentials",
      content: { "application/json": { schema: ProductAuthzResponse } },
    },
    ...errorResponses(403, 503),
  },
});

export const InteropGrants = z.object({
  grants: z.array(z.object({
    certcn: z.string(),
    granted_at: z.string(),
    granted_by: z.string(),
    last_confirmed_at: z.string(),
    serial: z.string(),
    not_after: z.string(),
  })),
}).openapi("InteropGrants");

const grantsRoute = createRoute({
  method: "get",
  path: "/api/v1/interop/grants",
  tags: ["operations"],
  summary: "The interop grants (loopback callers on the plain listener only: `interop list`)",
  ...caller("operator"),
  responses: {
    200: { description: "Grants", content: { "application/json": { schema: InteropGrants } } },
    ...errorResponses(403, 503),
  },
});

const revokeRoute = createRoute({
  method: "delete",
  path: "/api/v1/interop/grants/{certcn}",
  tags: ["operations"],
  summary: "Revoke a product's grant (loopback only: `interop revoke <certcn>`)",
  ...caller("operator"),
  request: { params: z.object({ certcn: z.string().min(1).max(253) }) },
  responses: {
    200: {
      description: "Revoked",
      content: { "application/json": { schema: OperationResultResponse } },
    },
    ...errorResponses(403, 404, 422, 503),
  },
});

function _interop(deps: AppDeps): Interop {
  if (deps.interop === undefined) throw new ApiError("unavailable", "Interop is not available");
  return deps.interop;
}

export function registerInteropRoutes(app: App, deps: AppDeps): void {
  async function add(c: Context<IdentityEnv>, body: z.infer<typeof InteropAddRequest>) {
    const by = requireCertificate(c).cn; // admitted as RM's certificate (caller "rm-direct")
    const outcome = await _interop(deps).grant({ ...body, by });
    if (outcome.kind === "refused") throw new ApiError("invalid_request", outcome.reason);
    const extra = outcome.created ? "granted" : "granted before";
    return c.json({ success: true, extra: `${extra}: ${body.certcn}`, error: null }, 200);
  }
  // RM joins `product.api` (ending in `/`) and `/api/v1/interop/add`: both paths, one route.
  for (const path of ["/api/v1/interop/add", "//api/v1/interop/add"]) {
    app.openapi(addRoute(path), function interopAdd(c) {
      return add(c, c.req.valid("json"));
    });
  }
  app.openapi(grantsRoute, async function interopGrants(c) {
    const grants = await _interop(deps).list();
    return c.json({
      grants: grants.map((g) => ({
        certcn: g.certcn,
        granted_at: g.grantedAt,
        granted_by: g.grantedBy,
        last_confirmed_at: g.lastConfirmedAt,
        serial: g.serial,
        not_after: g.notAfter,
      })),
    }, 200);
  });
  app.openapi(revokeRoute, async function interopRevoke(c) {
    const { certcn } = c.req.valid("param");
    if (!await _interop(deps).revoke(certcn)) {
      throw new ApiError("not_found", `No interop grant for ${JSON.stringify(certcn)}`);
    }
    return c.json({ success: true, extra: `revoked: ${certcn}`, error: null }, 200);
  });
  app.openapi(authzRoute, async function interopAuthz(c) {
    const outcome = await _interop(deps).authz(requireCertificate(c).cn);
    if (outcome.kind === "forbidden") throw new ApiError("forbidden", NOT_GRANTED);
    if (outcome.kind === "unavailable") {
      throw new ApiError("unavailable", outcome.reason, {
        headers: { "Retry-After": RETRY_AFTER_S },
      });
    }
    return c.json({
      type: "bearer-token" as const,
      token: outcome.token,
      username: outcome.userId,
      password: null,
      ro_password: null,
    }, 200);
  });
}
