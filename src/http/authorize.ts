/**
 * @module Authorisation before anything else reads the request: who may call a route is decided
 * from the transport alone, so a caller without the right certificate learns 403 — never 413,
 * 415 or 422 from a body it had no business sending. Each route declares its caller once
 * (`callers.ts`); the table here is built from the routes the app has, as is the 405 answer.
 */
import type { MiddlewareHandler } from "hono";
import { TrieRouter } from "hono/router/trie-router";
import type { App } from "./deps.ts";
import { admit, type Caller, CALLER_KEY } from "./callers.ts";
import type { IdentityEnv } from "./identity.ts";

/** Every route's method, path and caller, as the app's OpenAPI registry holds them. */
export interface RouteTable {
  /** The caller `method` on `path` is declared for; `null` for no such route. */
  callerOf(method: string, path: string): Caller | null;
  /** The methods `path` answers (HEAD with GET); empty for an unknown path. */
  methodsOf(path: string): string[];
}

/** The table of `app`'s routes; read at the first request, when every route is registered. */
export function routeTable(app: App): RouteTable {
  let built: { router: TrieRouter<Caller>; methods: string[] } | null = null;
  const table = () => {
    if (built !== null) return built;
    const router = new TrieRouter<Caller>();
    const methods = new Set<string>();
    for (const d of app.openAPIRegistry.definitions) {
      if (d.type !== "route") continue;
      const method = d.route.method.toUpperCase();
      const declared = (d.route as Record<string, unknown>)[CALLER_KEY] as Caller | undefined;
      if (declared === undefined) {
        throw new Error(`route ${method} ${d.route.path} declares no caller (callers.ts)`);
      }
      router.add(method, d.route.path.replace(/\{([^}]+)\}/g, ":$1"), declared);
      methods.add(method);
    }
    built = { router, methods: [...methods] };
    return built;
  };
  const match = (method: string, path: string) => table().router.match(method, path)[0][0];
  return {
    callerOf: (method, path) => match(method === "HEAD" ? "GET" : method, path)?.[0] ?? null,
    methodsOf(path) {
      const found = new Set(table().methods.filter((m) => match(m, path) !== undefined));
      if (found.has("GET")) found.add("HEAD");
      return [...found].sort();
    },
  };
}

/** Admits or refuses every request by its route's declared caller, before any body is read. */
export function authoriseByCaller(
  routes: RouteTable,
  rmCn: string,
): MiddlewareHandler<IdentityEnv> {
  return async function authoriseFirst(c, next) {
    // A preflight carries no credentials; CORS answers it before this runs.
    const who = c.req.method === "OPTIONS" ? null : routes.callerOf(c.req.method, c.req.path);
    if (who !== null) admit(c, who, rmCn);
    await next();
  };
}
