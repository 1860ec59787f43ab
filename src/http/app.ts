/**
 * @module `createApp(deps)`: the whole HTTP contract as one Hono app, independent of how
 * connections arrive (the listeners pass the transport in as bindings).
 */
import { errorPageMarkdown } from "./content/error_page.ts";
import { pickLanguage } from "./content/language.ts";
import { OpenAPIHono } from "@hono/zod-openapi";
import type { App, AppDeps } from "./deps.ts";
import { ApiError, createErrorHandler } from "./errors.ts";
import { type IdentityEnv, identityMiddleware } from "./identity.ts";
import { requestLogMiddleware } from "./request_log.ts";
import { limitBody } from "./body_limit.ts";
import { BROWSER_ROUTES, rmCors, rmOrigin } from "./cors.ts";
import { authoriseByCaller, routeTable } from "./authorize.ts";
import { MUTUAL_TLS } from "./callers.ts";
import { registerUserRoutes } from "./routes/users.ts";
import { registerHealthRoutes } from "./routes/health.ts";
import { registerDescriptionRoutes } from "./routes/descriptions.ts";
import { registerClientRoutes } from "./routes/clients.ts";
import { registerDocsRoutes } from "./routes/docs.ts";
import { registerStatusRoutes } from "./routes/status.ts";
import { registerOperationsRoutes } from "./routes/operations.ts";
import { registerInteropRoutes } from "./routes/interop.ts";

export type { App, AppDeps } from "./deps.ts";

/** Largest request body we read; RM's bodies are a few kilobytes (a PEM and two strings). */
export const MAX_BODY_BYTES = 64 * 1024;

const JSON_MEDIA = /^application\/([\w.-]+\+)?json$/i;

export function createApp(deps: AppDeps): App {
  const app: App = new OpenAPIHono<IdentityEnv>({
    defaultHook: function rejectInvalid(result) {
      if (!result.success) {
        const detail = result.error.issues.map((issue) => {
          const where = [result.target, ...issue.path.map(String)].join(".");
          return `${where}: ${issue.message}`;
        }).join("; ");
        throw new ApiError("invalid_request", `Invalid request: ${detail}`);
      }
    },
  });

  app.openAPIRegistry.registerComponent("securitySchemes", MUTUAL_TLS, {
    type: "mutualTLS",
    description: "A client certificate that chains to the deployment's CA (or, behind the " +
      "products' nginx, its DN in a trusted proxy's header).",
  });
  const routes = routeTable(app);
  app.onError(createErrorHandler(deps.log));
  app.notFound(function notFound(c) {
    const allowed = routes.methodsOf(c.req.path);
    if (allowed.length > 0) {
      throw new ApiError(
        "method_not_allowed",
        `${c.req.method} is not allowed on ${c.req.path} (allowed: ${allowed.join(", ")})`,
        { headers: { Allow: allowed.join(", ") } },
      );
    }
    throw new ApiError("not_found", `No route for ${c.req.method} ${c.req.path}`);
  });
  app.use(requestLogMiddleware(deps.log));
  // Before identity: a browser's preflight carries no credentials.
  const corsForRm = rmCors(rmOrigin(deps.config.manifest.rasenmaeher.init?.base_uri));
  for (const path of BROWSER_ROUTES) app.use(path, corsForRm);
  // RM's UI renders the info page's body whatever its status: a failure there is a page too.
  app.use("/api/v2/clients/:lang/info.md", async function errorsAsPage(c, next) {
    // Read before next(): afterwards the params are those of the last handler that ran.
    const lang = pickLanguage(c.req.param("lang") ?? "en");
    await next();
    if (c.res.status < 400 || !(c.res.headers.get("content-type") ?? "").includes("json")) return;
    const headers = new Headers(c.res.headers);
    headers.set("content-type", "text/markdown; charset=utf-8");
    headers.delete("content-length");
    const body = await c.res.clone().json().catch(() => null);
    const detail = typeof body?.error === "string" ? body.error : null;
    c.res = new Response(errorPageMarkdown(lang, c.res.status, detail), {
      status: c.res.status,
      headers,
    });
  });
  // A known path with a method it does not answer is a 405 before anything reads the request.
  app.use(async function rejectOtherMethods(c, next) {
    const allowed = routes.methodsOf(c.req.path);
    if (allowed.length > 0 && !allowed.includes(c.req.method)) {
      throw new ApiError(
        "method_not_allowed",
        `${c.req.method} is not allowed on ${c.req.path} (allowed: ${allowed.join(", ")})`,
        { headers: { Allow: allowed.join(", ") } },
      );
    }
    await next();
  });
  app.use(identityMiddleware(deps.config.proxy, deps.log));
  app.use(authoriseByCaller(routes, deps.config.manifest.rasenmaeher.certcn));
  app.use(limitBody(MAX_BODY_BYTES, function tooLarge(): never {
    throw new ApiError("payload_too_large", `Request body is over ${MAX_BODY_BYTES} bytes`);
  }));
  app.use(async function requireJsonBody(c, next) {
    if (c.req.method === "POST" || c.req.method === "PUT") {
      const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim();
      if (!JSON_MEDIA.test(type)) {
        throw new ApiError(
          "unsupported_media_type",
          `Content-Type must be application/json (got ${JSON.stringify(type)})`,
        );
      }
    }
    await next();
  });

  registerUserRoutes(app, deps);
  registerHealthRoutes(app, deps);
  registerDescriptionRoutes(app, deps);
  registerClientRoutes(app, deps);
  registerStatusRoutes(app, deps);
  registerOperationsRoutes(app, deps);
  registerInteropRoutes(app, deps);
  registerDocsRoutes(app);
  return app;
}
