/**
 * @module Who may call a route, declared once on the route itself (`caller(...)` spread into its
 * `createRoute`): the authorisation middleware, the OpenAPI `security` and the "Caller:" line of
 * its description all come from that one word.
 */
import type { Context } from "hono";
import type { PeerIdentity } from "../transport/bindings.ts";
import { ApiError } from "./errors.ts";
import { type IdentityEnv, LOOPBACK, requireCertificate } from "./identity.ts";

/**
 * - `rm`: Rasenmaeher's certificate, also through its product proxy (the info page).
 * - `rm-direct`: Rasenmaeher's certificate, never through its product proxy (lifecycle, grants).
 * - `certificate`: any verified client certificate (a person, a product, RM).
 * - `operator`: a loopback caller on the plain listener (the CLI inside the container).
 * - `public`: anyone.
 */
export type Caller = "rm" | "rm-direct" | "certificate" | "operator" | "public";

/** The OpenAPI extension that carries a route's caller. */
export const CALLER_KEY = "x-caller";

/** The security scheme of the routes that need a client certificate. */
export const MUTUAL_TLS = "mutualTLS";

const SAYS: Readonly<Record<Caller, string>> = {
  "rm": "Caller: Rasenmaeher (client certificate CN = `rasenmaeher.certcn`), also through its " +
    "product proxy.",
  "rm-direct": "Caller: Rasenmaeher (client certificate CN = `rasenmaeher.certcn`), not " +
    "through its product proxy.",
  "certificate": "Caller: any verified client certificate.",
  "operator": "Caller: the service's own host, on the plain listener (the CLI).",
  "public": "Public.",
};

/**
 * The parts of a route's definition that follow from its caller: the extension the middleware
 * reads, the OpenAPI security, and the description (with `more` after the caller line).
 *
 * @example createRoute({ method: "get", path: "/x", ...caller("certificate"), responses })
 */
export function caller(who: Caller, more?: string): {
  readonly [CALLER_KEY]: Caller;
  readonly security: Array<Record<string, string[]>>;
  readonly description: string;
} {
  const needsCertificate = who === "rm" || who === "rm-direct" || who === "certificate";
  return {
    [CALLER_KEY]: who,
    security: needsCertificate ? [{ [MUTUAL_TLS]: [] }] : [],
    description: more === undefined ? SAYS[who] : `${SAYS[who]} ${more}`,
  };
}

/** Refuses (403) a request whose transport does not prove `who`; nothing else is read. */
export function admit(c: Context<IdentityEnv>, who: Caller, rmCn: string): void {
  switch (who) {
    case "rm-direct":
      refuseProductProxy(c);
      requireRasenmaeher(c, rmCn);
      return;
    case "rm":
      requireRasenmaeher(c, rmCn);
      return;
    case "certificate":
      requireCertificate(c);
      return;
    case "operator":
      requireLoopback(c);
      return;
    case "public":
      return;
  }
}

/** The caller must be Rasenmaeher itself (CN == `rasenmaeher.certcn`), not through its proxy. */
function requireRasenmaeher(c: Context<IdentityEnv>, rmCn: string): PeerIdentity {
  const identity = requireCertificate(c);
  if (identity.cn !== rmCn) {
    throw new ApiError(
      "forbidden",
      `Certificate CN ${JSON.stringify(identity.cn)} is not Rasenmaeher`,
    );
  }
  return identity;
}

/** RM's product proxy marks what it forwards; such requests must not drive the user lifecycle. */
function refuseProductProxy(c: Context<IdentityEnv>): void {
  if (c.req.header("x-rasenmaeher-proxy") !== undefined) {
    throw new ApiError(
      "forbidden",
      "User lifecycle calls are not accepted through RM's product proxy",
    );
  }
}

/** The caller must be on the service's own host, on the plain listener (the operator's CLI). */
function requireLoopback(c: Context<IdentityEnv>): void {
  const t = c.env?.transport;
  if (t?.kind !== "plain" || !LOOPBACK.test(t.remoteAddress)) {
    throw new ApiError(
      "forbidden",
      `${c.req.method} ${c.req.path} is for the operator, from the service's own host only`,
    );
  }
}
