/**
 * @module Authorisation before anything else reads the request: who may call a route is decided
 * from the transport alone, so a caller without the right certificate learns 403 — never 413,
 * 415 or 422 from a body it had no business sending. The routes check again (defence in depth).
 */
import type { MiddlewareHandler } from "hono";
import {
  type IdentityEnv,
  refuseProductProxy,
  requireCertificate,
  requireLoopback,
  requireRasenmaeher,
} from "./identity.ts";

type Rule = (c: Parameters<MiddlewareHandler<IdentityEnv>>[0]) => void;

/** Path patterns (Hono syntax) and who may call them. */
export function authorisationRules(rmCn: string): ReadonlyArray<readonly [string, Rule]> {
  const rm: Rule = (c) => void requireRasenmaeher(c, rmCn);
  const certificate: Rule = (c) => void requireCertificate(c);
  const operator: Rule = (c) => requireLoopback(c, "Managing interop grants");
  const rmDirect: Rule = (c) => {
    refuseProductProxy(c);
    requireRasenmaeher(c, rmCn);
  };
  return [
    ["/api/v1/users/*", rmDirect],
    ["/api/v2/clients/:lang/info.md", rm],
    ["/api/v1/interop/add", rmDirect],
    ["//api/v1/interop/add", rmDirect],
    ["/api/v1/interop/authz", certificate],
    ["/api/v1/interop/grants", operator],
    ["/api/v1/interop/grants/*", operator],
    ["/api/v1/instructions/*", certificate],
    ["/api/v2/clients/data", certificate],
    ["/api/v2/admin/clients/data", certificate],
    ["/api/v1/clients/fragment", certificate],
    ["/api/v1/admins/fragment", certificate],
    ["/api/v1/reconcile", requireLoopback],
  ];
}

export function authorise(rule: Rule): MiddlewareHandler<IdentityEnv> {
  return async function authoriseFirst(c, next) {
    // A preflight carries no credentials; CORS answers it before this runs.
    if (c.req.method !== "OPTIONS") rule(c);
    await next();
  };
}
