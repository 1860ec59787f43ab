/**
 * @module The one typed configuration: parsed once from the environment and the kraftwerk
 * manifest, with every problem reported under the variable it came from.
 */
import { z } from "zod";
import {
  DEVELOPMENT_MANIFEST,
  type Manifest,
  ManifestSchema,
  serverNameFromProductDns,
} from "./manifest.ts";
import { parseCidrList } from "./cidr.ts";
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
  /** Timeouts and the connection cap, applied to each listener separately. */
  readonly limits: {
    /** The request head (and on mTLS the handshake) must arrive within this. */
    readonly headersTimeoutMs: number;
    /** The whole request, head and body, must arrive within this. */
    readonly requestTimeoutMs: number;
    /** An idle keep-alive connection is closed after this. */
    readonly idleTimeoutMs: number;
    /** Overall safety cap per listener; a quarter of it is kept for priority addresses. */
    readonly maxConnections: number;
    readonly maxConnectionsPerAddress: number;
    readonly maxHandshakes: number;
    readonly maxHandshakesPerAddress: number;
    readonly handshakeTimeoutMs: number;
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

/** Reads a file's text, or `null` when it does not exist. Injected so tests need no files. */
export type ReadText = (path: string) => Promise<string | null>;

const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);
const flag = (fallback: boolean) =>
  z.enum(["true", "false", "1", "0", "yes", "no"]).default(fallback ? "true" : "false")
    .transform((v) => v === "true" || v === "1" || v === "yes");
const path = z.string().min(1).refine((p) => p.startsWith("/") || p.startsWith("."), {
  message: "must be a file system path",
});
const optional = (schema: z.ZodType<string, string>) =>
  z.string().optional().transform((v) => (v === undefined || v === "" ? undefined : v)).pipe(
    schema.optional(),
  );

// Variable names are the ecosystem's (python-libpvarki and the Python matrixrmapi) so the
// binary drops into existing deployments unchanged.
const EnvSchema = z.object({
  SYNAPSE_URL: z.url({ protocol: /^https?$/ }).default("http://synapse:8008"),
  SYNAPSE_REGISTRATION_SECRET: z.string({ error: "is required" }).min(1, {
    message: "must not be empty",
  }),
  SYNAPSE_BOT_USERNAME: z.string().regex(/^[a-z0-9._=\-/+]+$/, {
    message: "must be a Matrix localpart (a-z, 0-9 and ._=-/+)",
  }).default("matrixrmapi-bot"),
  BATTLELOG_BOT_USERNAME: z.string().regex(/^[a-z0-9._=\-/+]+$/, {
    message: "must be a Matrix localpart (a-z, 0-9 and ._=-/+)",
  }).default("battlelog-bot"),
  SYNAPSE_TOKEN_FILE: optional(path),
  SYNAPSE_PUBLIC_URL: optional(z.url({ protocol: /^https?$/ })),
  SERVER_DOMAIN: optional(
    z.string().regex(/^[a-z0-9.-]+(:\d{1,5})?$/i, {
      message: "must be a Matrix server name (host[:port])",
    }),
  ),
  KRAFTWERK_MANIFEST: path.default("/pvarki/kraftwerk-init.json"),
  PERSISTENT_DATA_PATH: path.default("/data/persistent"),
  KV_PATH: optional(path),
  CLIENT_CERT_PATH: optional(path),
  CLIENT_KEY_PATH: optional(path),
  CLIENT_CERT_MANAGED_BY: z.enum(["auto", "self", "external"], {
    message: "must be auto, self or external",
  }).default("auto"),
  MTLS_ENABLED: flag(true),
  MTLS_SERVER_CERT_PATH: optional(path),
  MTLS_SERVER_KEY_PATH: optional(path),
  LOCAL_CA_CERTS_PATH: path.default("/ca_public"),
  LOCAL_CA_CERTS_GLOB: z.string().min(1).default("*ca*.pem"),
  MTLS_CRL_PATH: optional(path),
  MTLS_OCSP: z.enum(["off", "on", "required"], { message: "must be off, on or required" })
    .default("on"),
  MTLS_OCSP_URL: optional(z.url({ protocol: /^https?$/ })),
  MTLS_OCSP_TIMEOUT_S: z.coerce.number().min(0.1).max(30).default(2),
  MTLS_OCSP_CACHE_S: z.coerce.number().int().min(1).max(300).default(60),
  MTLS_PORT: port(4625),
  HTTP_PORT: port(8012),
  // Both listeners, each on its own.
  HTTP_HEADERS_TIMEOUT_S: z.coerce.number().int().min(1).max(3600).default(10),
  HTTP_REQUEST_TIMEOUT_S: z.coerce.number().int().min(1).max(3600).default(30),
  HTTP_IDLE_TIMEOUT_S: z.coerce.number().int().min(1).max(3600).default(30),
  // Connection budgets (per listener; README "Connection limits" says why these defaults).
  HTTP_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(65_535).default(4096),
  HTTP_MAX_CONNECTIONS_PER_ADDRESS: z.coerce.number().int().min(1).max(65_535).default(1024),
  HTTP_MAX_HANDSHAKES: z.coerce.number().int().min(1).max(65_535).default(1024),
  HTTP_MAX_HANDSHAKES_PER_ADDRESS: z.coerce.number().int().min(1).max(65_535).default(512),
  HTTP_HANDSHAKE_TIMEOUT_S: z.coerce.number().int().min(1).max(60).default(5),
  HTTP_MAX_CONNECTIONS_PER_IDENTITY: z.coerce.number().int().min(1).max(65_535).default(64),
  HTTP_PRIORITY_ADDRESSES: z.string().default("127.0.0.1/32, ::1/128"),
  BIND_HOST: z.string().min(1).default("0.0.0.0"),
  MTLS_TRUST_PROXY_HEADER: flag(false),
  MTLS_HEADER_NAME: z.string().regex(/^[A-Za-z0-9-]+$/, { message: "must be a header name" })
    .default("X-ClientCert-DN"),
  MTLS_TRUSTED_PROXIES: z.string().default(""),
  // libpvarki's Linkerd identity (same names and defaults): off unless asked.
  MTLS_TRUST_L5D: flag(false),
  MTLS_REQUIRE_L5D: flag(false),
  MTLS_L5D_HEADER_NAME: z.string().regex(/^[A-Za-z0-9-]+$/, { message: "must be a header name" })
    .default("l5d-client-id"),
  MTLS_TRUSTED_INGRESS_IDENTITIES: z.string().default("").transform((v) =>
    v.split(",").map((s) => s.trim()).filter((s) => s !== "")
  ),
  // Names, or Python's numeric levels as environments written for the Python image have them.
  LOG_LEVEL: z.string().default("INFO").transform((v) => v.trim().toUpperCase()).pipe(
    z.enum(
      ["DEBUG", "INFO", "WARNING", "WARN", "ERROR", "CRITICAL", "10", "20", "30", "40", "50"],
      {
        error: "must be DEBUG, INFO, WARNING, ERROR, CRITICAL or 10, 20, 30, 40, 50",
      },
    ),
  ),
  LOG_CONSOLE_FORMATTER: z.enum(["ecs", "local"]).default("ecs"),
  RECONCILE_INTERVAL_S: z.coerce.number().int().min(0).max(86_400).default(600),
  RECONCILE_DRY_RUN: flag(false),
  RM_OWN_CALLSIGNS: z.string().default("anon_admin").transform((v) =>
    v.split(",").map((s) => s.trim()).filter((s) => s !== "")
  ),
  HEALTH_UNHEALTHY_AFTER_S: z.coerce.number().int().min(1).max(86_400).default(300),
  // The ecosystem's names for Keycloak (kc_client_init's container env).
  KCDOMAIN: optional(
    z.string().regex(/^[a-z0-9-]+(\.[a-z0-9-]+)*$/i, { message: "must be a host name" }),
  ),
  KCREALM: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, {
    message: "must be a realm name (letters, digits, '.', '_', '-')",
  }).default("RASENMAEHER"),
  KEYCLOAK_URL: optional(z.url({ protocol: /^https?$/ })),
  OIDC_REGISTRATION_PATH: optional(path),
});

/** Every environment variable the service reads (the permission set allows exactly these). */
export const ENV_NAMES: readonly string[] = Object.keys(EnvSchema.shape);

const LEVELS: Record<string, LogLevel> = {
  DEBUG: "debug",
  INFO: "info",
  WARNING: "warn",
  WARN: "warn",
  ERROR: "error",
  CRITICAL: "error",
  "10": "debug",
  "20": "info",
  "30": "warn",
  "40": "error",
  "50": "error",
};

/** Parses environment and manifest into a Config; never throws for bad input. */
export async function parseConfig(
  env: Readonly<Record<string, string | undefined>>,
  readText: ReadText,
): Promise<ConfigResult> {
  const problems: string[] = [];
  const warnings: string[] = [];
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? "environment");
      // Quote the offending value, except for the secret.
      const raw = env[name];
      const shown = name === "SYNAPSE_REGISTRATION_SECRET" || raw === undefined
        ? ""
        : ` (got ${JSON.stringify(raw)})`;
      problems.push(`${name}: ${issue.message}${shown}`);
    }
    return { ok: false, problems };
  }
  const e = parsed.data;

  const trustedProxies = parseCidrList(e.MTLS_TRUSTED_PROXIES);
  if (!trustedProxies.ok) problems.push(`MTLS_TRUSTED_PROXIES: ${trustedProxies.error}`);
  const priority = parseCidrList(e.HTTP_PRIORITY_ADDRESSES);
  if (!priority.ok) problems.push(`HTTP_PRIORITY_ADDRESSES: ${priority.error}`);
  problems.push(..._crossProblems(e, trustedProxies.ok && trustedProxies.blocks.length === 0));

  const manifest = await _loadManifest(e.KRAFTWERK_MANIFEST, readText, problems, warnings);
  if (problems.length > 0 || manifest === null || !trustedProxies.ok || !priority.ok) {
    return { ok: false, problems };
  }

  const serverName = e.SERVER_DOMAIN?.toLowerCase() ??
    serverNameFromProductDns(manifest.value.product.dns);
  const volumes = _volumePaths(e);
  const { clientCertPath, clientKeyPath } = volumes;
  // As a URL writes it: a default port (`:443` for https, `:80` for http) is dropped, as
  // Synapse's public_baseurl has none then and Keycloak compares redirect URIs as written.
  const publicUrl = new URL(e.SYNAPSE_PUBLIC_URL ?? _defaultPublicUrl(manifest.value, serverName))
    .href.replace(/\/*$/, "/");
  const config: Config = {
    synapse: {
      url: e.SYNAPSE_URL.replace(/\/+$/, ""),
      registrationSecret: e.SYNAPSE_REGISTRATION_SECRET,
      botUsername: e.SYNAPSE_BOT_USERNAME,
      legacyTokenFile: volumes.legacyTokenFile,
      ingestBotUsername: e.BATTLELOG_BOT_USERNAME,
      publicUrl,
    },
    serverName,
    manifest: manifest.value,
    manifestPath: e.KRAFTWERK_MANIFEST,
    manifestFound: manifest.found,
    dataPath: e.PERSISTENT_DATA_PATH,
    kvPath: volumes.kvPath,
    clientCertPath,
    clientKeyPath,
    clientCertManagedBy: e.CLIENT_CERT_MANAGED_BY === "auto"
      ? ([clientCertPath, clientKeyPath].every((p) => _inside(p, e.PERSISTENT_DATA_PATH))
        ? "self"
        : "external")
      : e.CLIENT_CERT_MANAGED_BY,
    ..._transportConfig(e, {
      clientCertPath,
      clientKeyPath,
      trustedProxies: trustedProxies.blocks,
      priority: priority.blocks,
    }),
    log: { level: LEVELS[e.LOG_LEVEL] ?? "info", format: e.LOG_CONSOLE_FORMATTER },
    reconcile: {
      rmBaseUri: manifest.value.rasenmaeher.mtls?.base_uri ?? null,
      intervalMs: e.RECONCILE_INTERVAL_S * 1000,
      dryRun: e.RECONCILE_DRY_RUN,
    },
    unhealthyAfterMs: e.HEALTH_UNHEALTHY_AFTER_S * 1000,
    rmOwnCallsigns: e.RM_OWN_CALLSIGNS,
    keycloak: {
      baseUrl: (e.KEYCLOAK_URL ?? `https://${e.KCDOMAIN ?? `kc.${serverName}`}:9443/`)
        .replace(/\/*$/, "/"),
      realm: e.KCREALM,
      registrationPath: volumes.registrationPath,
      redirectUri: `${publicUrl}_synapse/client/oidc/callback`,
    },
  };
  return { ok: true, config, warnings };
}

type Env = z.infer<typeof EnvSchema>;

/** Problems that involve more than one variable (each alone was valid). */
function _crossProblems(e: Env, noProxies: boolean): string[] {
  const problems: string[] = [];
  if (e.MTLS_TRUST_PROXY_HEADER && noProxies) {
    problems.push(
      "MTLS_TRUSTED_PROXIES: must list the proxy addresses (CIDR) when MTLS_TRUST_PROXY_HEADER=true",
    );
  }
  if (e.HTTP_HEADERS_TIMEOUT_S > e.HTTP_REQUEST_TIMEOUT_S) {
    problems.push(
      `HTTP_HEADERS_TIMEOUT_S: must not exceed HTTP_REQUEST_TIMEOUT_S ` +
        `(${e.HTTP_HEADERS_TIMEOUT_S} > ${e.HTTP_REQUEST_TIMEOUT_S})`,
    );
  }
  if (e.MTLS_REQUIRE_L5D && !e.MTLS_TRUST_L5D) {
    problems.push(
      "MTLS_REQUIRE_L5D: needs MTLS_TRUST_L5D=true (a required identity must be trusted)",
    );
  }
  if (e.MTLS_ENABLED && e.HTTP_PORT !== 0 && e.MTLS_PORT === e.HTTP_PORT) {
    problems.push(`MTLS_PORT: must differ from HTTP_PORT (both ${e.HTTP_PORT})`);
  }
  if (
    e.BATTLELOG_BOT_USERNAME === e.SYNAPSE_BOT_USERNAME ||
    e.BATTLELOG_BOT_USERNAME.startsWith(`${e.SYNAPSE_BOT_USERNAME}-recovery-`)
  ) {
    problems.push(
      `BATTLELOG_BOT_USERNAME: must differ from SYNAPSE_BOT_USERNAME (${e.SYNAPSE_BOT_USERNAME})`,
    );
  }
  return problems;
}

/** The listeners' part of the configuration: mTLS, connection limits, and caller identity. */
function _transportConfig(
  e: Env,
  t: {
    readonly clientCertPath: string;
    readonly clientKeyPath: string;
    readonly trustedProxies: readonly CidrBlock[];
    readonly priority: readonly CidrBlock[];
  },
): Pick<Config, "mtls" | "http" | "limits" | "bindHost" | "proxy"> {
  return {
    mtls: {
      enabled: e.MTLS_ENABLED,
      port: e.MTLS_PORT,
      serverCertPath: e.MTLS_SERVER_CERT_PATH ?? t.clientCertPath,
      serverKeyPath: e.MTLS_SERVER_KEY_PATH ?? t.clientKeyPath,
      caPath: e.LOCAL_CA_CERTS_PATH,
      caGlob: e.LOCAL_CA_CERTS_GLOB,
      crlPath: e.MTLS_CRL_PATH ?? null,
      ocsp: {
        mode: e.MTLS_OCSP,
        url: e.MTLS_OCSP_URL ?? null,
        timeoutMs: Math.round(e.MTLS_OCSP_TIMEOUT_S * 1000),
        maxCacheMs: e.MTLS_OCSP_CACHE_S * 1000,
      },
    },
    http: { port: e.HTTP_PORT },
    limits: {
      headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_S * 1000,
      requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_S * 1000,
      idleTimeoutMs: e.HTTP_IDLE_TIMEOUT_S * 1000,
      maxConnections: e.HTTP_MAX_CONNECTIONS,
      maxConnectionsPerAddress: e.HTTP_MAX_CONNECTIONS_PER_ADDRESS,
      maxHandshakes: e.HTTP_MAX_HANDSHAKES,
      maxHandshakesPerAddress: e.HTTP_MAX_HANDSHAKES_PER_ADDRESS,
      handshakeTimeoutMs: e.HTTP_HANDSHAKE_TIMEOUT_S * 1000,
      maxConnectionsPerIdentity: e.HTTP_MAX_CONNECTIONS_PER_IDENTITY,
      // The proxies in front (RM's own, nginx) carry RM's callbacks: never starve them.
      priorityAddresses: [...t.priority, ...t.trustedProxies],
    },
    bindHost: e.BIND_HOST,
    proxy: {
      trustHeader: e.MTLS_TRUST_PROXY_HEADER,
      headerName: e.MTLS_HEADER_NAME,
      trustedProxies: t.trustedProxies,
      l5d: {
        trust: e.MTLS_TRUST_L5D,
        require: e.MTLS_REQUIRE_L5D,
        headerName: e.MTLS_L5D_HEADER_NAME,
        trustedIngress: e.MTLS_TRUSTED_INGRESS_IDENTITIES,
      },
    },
  };
}

/** Whether `path` lies inside directory `dir` (lexically, as the permission set grants it). */
function _inside(path: string, dir: string): boolean {
  return path.startsWith(`${dir.replace(/\/+$/, "")}/`);
}

/**
 * Where people reach Synapse in the ecosystem: `https://synapse.<domain>`, served by RM's own
 * nginx, so on RM's port (docker-synapse-server's entrypoint builds the same URL from
 * NGINX_HTTPS_PORT; RM's `init.base_uri` carries that port when it is not 443).
 */
function _defaultPublicUrl(manifest: Manifest, serverName: string): string {
  const base = manifest.rasenmaeher.init?.base_uri;
  const port = base === undefined ? "" : new URL(base).port;
  return `https://synapse.${serverName}${port === "" ? "" : `:${port}`}/`;
}

async function _loadManifest(
  path: string,
  readText: ReadText,
  problems: string[],
  warnings: string[],
): Promise<{ value: Manifest; found: boolean } | null> {
  let text: string | null;
  try {
    text = await readText(path);
  } catch (err) {
    problems.push(`KRAFTWERK_MANIFEST: cannot read ${path}: ${(err as Error).message}`);
    return null;
  }
  if (text === null) {
    warnings.push(
      `KRAFTWERK_MANIFEST: ${path} does not exist; using the local development manifest ` +
        `(deployment "${DEVELOPMENT_MANIFEST.deployment}", ` +
        `product.dns "${DEVELOPMENT_MANIFEST.product.dns}")`,
    );
    return { value: DEVELOPMENT_MANIFEST, found: false };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    problems.push(`KRAFTWERK_MANIFEST: ${path} is not JSON: ${(err as Error).message}`);
    return null;
  }
  const result = ManifestSchema.safeParse(json);
  if (!result.success) {
    for (const issue of result.error.issues) {
      problems.push(
        `KRAFTWERK_MANIFEST: ${path}: ${issue.path.join(".") || "(root)"}: ${issue.message}`,
      );
    }
    return null;
  }
  return { value: result.data, found: true };
}

/** Reads the real process environment and files; the only place that touches `Deno.env`. */
export function loadConfigFromProcess(): Promise<ConfigResult> {
  // Only the variables we know: reading the whole environment would need (and grant) more.
  const env = Object.fromEntries(ENV_NAMES.map((name) => [name, Deno.env.get(name)]));
  return parseConfig(env, readTextOrNull);
}

/** The volumes and files the service writes, for `prepare-volumes` (which needs nothing else). */
export interface VolumePaths {
  readonly dataPath: string;
  readonly kvPath: string;
  readonly registrationPath: string;
  readonly legacyTokenFile: string;
  readonly clientCertPath: string;
  readonly clientKeyPath: string;
}

const VolumeSchema = EnvSchema.pick({
  PERSISTENT_DATA_PATH: true,
  KV_PATH: true,
  OIDC_REGISTRATION_PATH: true,
  SYNAPSE_TOKEN_FILE: true,
  CLIENT_CERT_PATH: true,
  CLIENT_KEY_PATH: true,
});

/** The paths of `VolumePaths` from the process environment, with the service's own defaults. */
export function loadVolumePathsFromProcess():
  | { ok: true; paths: VolumePaths }
  | { ok: false; problems: string[] } {
  const env = Object.fromEntries(
    Object.keys(VolumeSchema.shape).map((name) => [name, Deno.env.get(name)]),
  );
  const parsed = VolumeSchema.safeParse(env);
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`),
    };
  }
  return { ok: true, paths: _volumePaths(parsed.data) };
}

/** Where the service keeps its files: the variables, or their places on the data volume. */
function _volumePaths(e: z.infer<typeof VolumeSchema>): VolumePaths {
  const data = e.PERSISTENT_DATA_PATH;
  return {
    dataPath: data,
    kvPath: e.KV_PATH ?? `${data}/matrixrmapi.kv`,
    registrationPath: e.OIDC_REGISTRATION_PATH ?? `${data}/oidc/registration.json`,
    // The Python original kept it here (its PERSISTENT_DATA_PATH is /data/persistent).
    legacyTokenFile: e.SYNAPSE_TOKEN_FILE ?? `${data}/synapse_admin_token`,
    clientCertPath: e.CLIENT_CERT_PATH ?? `${data}/public/mtlsclient.pem`,
    clientKeyPath: e.CLIENT_KEY_PATH ?? `${data}/private/mtlsclient.key`,
  };
}

/**
 * The manifest's `rasenmaeher.init.csr_jwt`, read from the file again (an operator may replace
 * a spent or expired token without a restart); `null` when there is none.
 */
export async function readCsrJwt(manifestPath: string): Promise<string | null> {
  const text = await readTextOrNull(manifestPath);
  if (text === null) return null;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = ManifestSchema.safeParse(json);
  return parsed.success ? parsed.data.rasenmaeher.init?.csr_jwt ?? null : null;
}

/** A file's text, or `null` when it does not exist (other errors propagate). */
export async function readTextOrNull(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
}
