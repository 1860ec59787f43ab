/** @module The one typed configuration the service runs with, and the result of parsing it. */
import type { Manifest } from "./manifest.ts";
import type { CidrBlock } from "./cidr.ts";
import type { LogFormat, LogLevel } from "../log/logger.ts";

export interface Config {
  readonly synapse: {
    readonly url: string;
    readonly registrationSecret: string;
    readonly botUsername: string;
    /** The ingest bot BattleLog reads the rooms through (`BATTLELOG_BOT_USERNAME`). */
    readonly ingestBotUsername: string;
    readonly legacyTokenFile: string;
    readonly publicUrl: string;
  };
  readonly serverName: string;
  readonly manifest: Manifest;
  readonly manifestPath: string;
  readonly manifestFound: boolean;
  readonly dataPath: string;
  readonly kvPath: string;
  readonly clientCertPath: string;
  readonly clientKeyPath: string;
  /**
   * Who enrols and renews the product pair: `self`, or `external` (a read-only mount, a Secret)
   * — by default external when the pair lies outside the data volume.
   */
  readonly clientCertManagedBy: "self" | "external";
  readonly mtls: {
    readonly enabled: boolean;
    readonly port: number;
    readonly serverCertPath: string;
    readonly serverKeyPath: string;
    readonly caPath: string;
    readonly caGlob: string;
    readonly crlPath: string | null;
    /** Revocation by OCSP for client leaves (the CRL decides when there is no verdict). */
    readonly ocsp: {
      readonly mode: "off" | "on" | "required";
      /** Ask this responder instead of the leaf's AIA; `null` = the AIA. */
      readonly url: string | null;
      readonly timeoutMs: number;
      /** Longest a good answer is used; a revocation reaches the listener within this. */
      readonly maxCacheMs: number;
    };
  };
  readonly http: { readonly port: number };
  /** Timeouts and connection budgets, applied to each listener separately. */
  readonly limits: {
    /**
     * The request head must be complete this long after the connection (or the request) began;
     * on the mTLS listener the TLS handshake must also be done within it.
     */
    readonly headersTimeoutMs: number;
    /** The whole request, head and body, must have arrived this long after it began. */
    readonly requestTimeoutMs: number;
    /**
     * A keep-alive connection with no request in progress is closed after this (+1 s, node's
     * grace after the `Keep-Alive: timeout` it advertises).
     */
    readonly idleTimeoutMs: number;
    /**
     * Connections open at once, whoever holds them: a safety cap on memory and descriptors. A
     * quarter of it is kept for priority addresses.
     */
    readonly maxConnections: number;
    /** Connections one address without priority may hold. */
    readonly maxConnectionsPerAddress: number;
    /** mTLS: connections still in their handshake, from addresses without priority together. */
    readonly maxHandshakes: number;
    /** mTLS: connections in their handshake from one address without priority. */
    readonly maxHandshakesPerAddress: number;
    /** mTLS: the handshake must be done this long after the connection was accepted. */
    readonly handshakeTimeoutMs: number;
    /** mTLS: connections one client certificate may hold (RM's own are exempt). */
    readonly maxConnectionsPerIdentity: number;
    /** Held to the overall cap only: loopback, `MTLS_TRUSTED_PROXIES`, `HTTP_PRIORITY_ADDRESSES`. */
    readonly priorityAddresses: readonly CidrBlock[];
  };
  readonly bindHost: string;
  readonly proxy: {
    readonly trustHeader: boolean;
    readonly headerName: string;
    readonly trustedProxies: readonly CidrBlock[];
    /** Linkerd's verified peer identity, read as libpvarki reads it. */
    readonly l5d: {
      readonly trust: boolean;
      readonly require: boolean;
      readonly headerName: string;
      /** Ingress identities whose forwarded client-certificate header is the caller instead. */
      readonly trustedIngress: readonly string[];
    };
  };
  readonly log: { readonly level: LogLevel; readonly format: LogFormat };
  readonly reconcile: {
    /** RM's mTLS base URI from the manifest; reconciliation is off without it. */
    readonly rmBaseUri: string | null;
    /** 0 = only on demand. */
    readonly intervalMs: number;
    readonly dryRun: boolean;
  };
  /** The healthcheck reports unhealthy once the bootstrap has failed for this long. */
  readonly unhealthyAfterMs: number;
  /** Callsigns of the accounts RM makes for itself (`anon_admin`): never treated as people. */
  readonly rmOwnCallsigns: readonly string[];
  /** Synapse's OIDC client in the deployment's Keycloak. */
  readonly keycloak: {
    /** Ends with `/`: `https://{KCDOMAIN}:9443/` unless `KEYCLOAK_URL` says otherwise. */
    readonly baseUrl: string;
    readonly realm: string;
    /** The file Synapse reads the client from. */
    readonly registrationPath: string;
    /** The only redirect URI the client may have: Synapse's OIDC callback. */
    readonly redirectUri: string;
  };
}

export type ConfigResult =
  | { readonly ok: true; readonly config: Config; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly problems: readonly string[] };
