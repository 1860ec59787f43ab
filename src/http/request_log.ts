/** @module One structured log line per request: method, path, status, duration and client CN. */
import type { MiddlewareHandler } from "hono";
import type { Logger } from "../log/logger.ts";
import type { IdentityEnv } from "./identity.ts";

export function requestLogMiddleware(log: Logger): MiddlewareHandler<IdentityEnv> {
  return async function logRequest(c, next) {
    const started = performance.now();
    await next();
    const identity = c.get("identity") ?? null;
    const status = c.res.status;
    const fields = {
      "http.request.method": c.req.method,
      "url.path": c.req.path,
      "http.response.status_code": status,
      "event.duration_ms": Math.round((performance.now() - started) * 10) / 10,
      "client.cn": identity?.cn ?? null,
      "client.via": identity?.via ?? null,
      "client.address": c.env?.transport?.remoteAddress ?? null,
    };
    if (status >= 500) log.error("request", fields);
    else log.info("request", fields);
  };
}
