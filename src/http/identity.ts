/**
 * @module Who is calling: the identity a listener proved, or, only from trusted proxies and only
 * when enabled, the proxy's `X-ClientCert-DN` header. What each route lets in is `callers.ts`.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { AppBindings, PeerIdentity } from "../transport/bindings.ts";
import { ApiError } from "./errors.ts";
import { addressInBlocks, type CidrBlock } from "../config/cidr.ts";
import type { Logger } from "../log/logger.ts";
import { commonNameOf, parseDistinguishedName } from "../x509/dn.ts";

/** A loopback address: the service's own host. */
export const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

export interface IdentityPolicy {
  /** Honour the proxy header at all (`MTLS_TRUST_PROXY_HEADER`). */
  readonly trustHeader: boolean;
  /** Header carrying the verified subject DN (`MTLS_HEADER_NAME`). */
  readonly headerName: string;
  /** Peers allowed to send it (`MTLS_TRUSTED_PROXIES`). */
  readonly trustedProxies: readonly CidrBlock[];
  /** Linkerd's `l5d-client-id`, as libpvarki reads it; absent = off. */
  readonly l5d?: {
    readonly trust: boolean;
    readonly require: boolean;
    readonly headerName: string;
    readonly trustedIngress: readonly string[];
  };
}

// A Linkerd identity: `<serviceaccount>.<namespace>.serviceaccount.identity.linkerd.<domain>`.
const MESH_IDENTITY = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/;

export type IdentityEnv = {
  Bindings: AppBindings;
  Variables: { identity: PeerIdentity | null };
};

/** Middleware that puts `identity` in the context for every request. */
export function identityMiddleware(
  policy: IdentityPolicy,
  log: Logger,
): MiddlewareHandler<IdentityEnv> {
  const header = policy.headerName.toLowerCase();
  return async function resolveIdentity(c, next) {
    const transport = c.env?.transport ?? { kind: "plain", remoteAddress: "" };
    let identity: PeerIdentity | null = null;
    if (transport.kind === "mtls") {
      // A certificate proved in the handshake outranks any header; the header is ignored here.
      identity = transport.identity;
    } else if (policy.l5d?.trust) {
      const peer = transport.remoteAddress;
      const certHeader = (viaIngress: boolean) => {
        const dn = c.req.header(header);
        return dn === undefined ? null : _fromProxyHeader(dn, peer, policy, log, viaIngress);
      };
      identity = _fromMesh(c.req.header(policy.l5d.headerName), peer, policy, certHeader, log);
    } else {
      const dn = c.req.header(header);
      if (dn !== undefined) identity = _fromProxyHeader(dn, transport.remoteAddress, policy, log);
    }
    c.set("identity", identity);
    await next();
  };
}

/**
 * libpvarki's rule with Linkerd trusted: no mesh identity → the certificate header (or nobody,
 * when the mesh is required); a trusted ingress → the certificate header it forwards; any other
 * mesh identity → that identity is the caller (CN = the identity), whatever headers it adds. The
 * mesh header counts only from the pod's own Linkerd proxy (loopback) or a trusted proxy.
 */
function _fromMesh(
  value: string | undefined,
  peer: string,
  policy: IdentityPolicy,
  certHeader: (viaIngress: boolean) => PeerIdentity | null,
  log: Logger,
): PeerIdentity | null {
  const mesh = policy.l5d!;
  if (
    value !== undefined && !LOOPBACK.test(peer) && !addressInBlocks(peer, policy.trustedProxies)
  ) {
    log.warn("ignored a mesh identity header from a peer that is not the mesh proxy", {
      peer,
      header: mesh.headerName,
    });
    value = undefined;
  }
  if (value === undefined) return mesh.require ? null : certHeader(false);
  if (mesh.trustedIngress.includes(value)) return certHeader(true);
  if (!MESH_IDENTITY.test(value)) {
    log.warn("ignored a malformed mesh identity", { peer, header: mesh.headerName });
    return null;
  }
  return { cn: value, dn: `CN=${value}`, serial: null, via: "l5d" };
}

function _fromProxyHeader(
  dn: string,
  peer: string,
  policy: IdentityPolicy,
  log: Logger,
  vouchedByIngress = false,
): PeerIdentity | null {
  if (!vouchedByIngress && (!policy.trustHeader || !addressInBlocks(peer, policy.trustedProxies))) {
    log.warn("ignored client-certificate header from an untrusted peer", {
      peer,
      header: policy.headerName,
      trust_enabled: policy.trustHeader,
    });
    return null;
  }
  const rdns = parseDistinguishedName(dn);
  const cn = rdns.ok ? commonNameOf(rdns.value) : null;
  if (!rdns.ok || cn === null) {
    log.warn("ignored unparsable client-certificate header", {
      peer,
      reason: rdns.ok ? "no CN" : rdns.error,
    });
    return null;
  }
  return { cn, dn, serial: null, via: "proxy-header" };
}

/** The caller's identity; 403 when there is none (the contract answers 403 to anyone else). */
export function requireCertificate(c: Context<IdentityEnv>): PeerIdentity {
  const identity = c.get("identity");
  if (identity === null) {
    throw new ApiError("forbidden", "A verified client certificate is required");
  }
  return identity;
}
