/**
 * @module What a listener tells the HTTP app about the connection a request arrived on.
 * The listeners (src/server) fill this in and the app (src/http) reads it; neither imports the
 * other, and the app never looks at sockets itself.
 */

/** A client identity proven by a verified certificate (directly, or by a trusted proxy). */
export interface PeerIdentity {
  /** Subject common name. */
  readonly cn: string;
  /** Subject distinguished name, RFC 4514 order (most specific first). */
  readonly dn: string;
  /** Serial number as lower-case hex without leading zeros, when known. */
  readonly serial: string | null;
  /** How the identity was established. */
  readonly via: "mtls" | "proxy-header" | "l5d";
}

/** The connection a request came in on. */
export type Transport =
  | {
    /** The mTLS listener: the handshake verified the certificate and the CRL. */
    readonly kind: "mtls";
    readonly identity: PeerIdentity;
    readonly remoteAddress: string;
    /** True once the listener gave up on the request body (it answered 408 and closed). */
    readonly requestTimedOut?: () => boolean;
  }
  | {
    /** The plain HTTP listener (or an in-process test with no certificate). */
    readonly kind: "plain";
    readonly remoteAddress: string;
    /** True once the listener gave up on the request body (it answered 408 and closed). */
    readonly requestTimedOut?: () => boolean;
  };

/** Hono bindings passed as the second argument of `app.fetch(request, env)`. */
export interface AppBindings {
  transport: Transport;
}
