/**
 * @module CORS as the Python original had it: RM's web UI (the origin of
 * `rasenmaeher.init.base_uri`) may call the public and certificate routes from the browser with
 * credentials; no other origin may. RM-only and operator routes get no CORS headers at all.
 */
import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";

/** The routes a person's browser reaches (public, or authenticated by the person's certificate). */
export const BROWSER_ROUTES: readonly string[] = [
  "/api/v1/healthcheck",
  "/api/v1/description/*",
  "/api/v2/description/*",
  "/api/v2/admin/description/*",
  "/api/v1/instructions/*",
  "/api/v2/clients/data",
  "/api/v2/admin/clients/data",
  "/api/v1/clients/fragment",
  "/api/v1/admins/fragment",
];

/** The browser origin of RM's UI, from its init base URI; `null` when the manifest has none. */
export function rmOrigin(initBaseUri: string | undefined): string | null {
  return initBaseUri === undefined ? null : new URL(initBaseUri).origin;
}

/** CORS for RM's origin only; a pass-through when there is no origin to allow. */
export function rmCors(origin: string | null): MiddlewareHandler {
  if (origin === null) {
    return async function noCors(_c, next) {
      await next();
    };
  }
  const allow = cors({
    origin: (requested) => (requested === origin ? origin : null),
    credentials: true,
    allowMethods: ["GET", "POST", "OPTIONS"],
    allowHeaders: ["Content-Type", "Accept", "Accept-Language"],
    maxAge: 600,
  });
  return async function corsForRm(c, next) {
    // Another origin gets no CORS headers at all (not even Allow-Credentials).
    if (c.req.header("origin") !== origin) return await next();
    return await allow(c, next);
  };
}
