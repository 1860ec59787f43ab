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
  readonly mtls: {
    readonly enabled: boolean;
    readonly port: number;
    readonly serverCertPath: string;
    readonly serverKeyPath: string;
    readonly caPath: string;
    readonly caGlob: string;
    readonly crlPath: string | null;
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
    readonly maxConnections: number;
  };
  readonly bindHost: string;
  readonly proxy: {
    readonly trustHeader: boolean;
    readonly headerName: string;
    readonly trustedProxies: readonly CidrBlock[];
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
  MTLS_ENABLED: flag(true),
  MTLS_SERVER_CERT_PATH: optional(path),
  MTLS_SERVER_KEY_PATH: optional(path),
  LOCAL_CA_CERTS_PATH: path.default("/ca_public"),
  LOCAL_CA_CERTS_GLOB: z.string().min(1).default("*ca*.pem"),
  MTLS_CRL_PATH: optional(path),
  MTLS_PORT: port(4625),
  HTTP_PORT: port(8012),
  // Both listeners, each on its own.
  HTTP_HEADERS_TIMEOUT_S: z.coerce.number().int().min(1).max(3600).default(10),
  HTTP_REQUEST_TIMEOUT_S: z.coerce.number().int().min(1).max(3600).default(30),
  HTTP_IDLE_TIMEOUT_S: z.coerce.number().int().min(1).max(3600).default(30),
  HTTP_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(65_535).default(64),
  BIND_HOST: z.string().min(1).default("0.0.0.0"),
  MTLS_TRUST_PROXY_HEADER: flag(false),
  MTLS_HEADER_NAME: z.string().regex(/^[A-Za-z0-9-]+$/, { message: "must be a header name" })
    .default("X-ClientCert-DN"),
  MTLS_TRUSTED_PROXIES: z.string().default(""),
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
  if (e.MTLS_TRUST_PROXY_HEADER && trustedProxies.ok && trustedProxies.blocks.length === 0) {
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

  const manifest = await _loadManifest(e.KRAFTWERK_MANIFEST, readText, problems, warnings);
  if (problems.length > 0 || manifest === null || !trustedProxies.ok) {
    return { ok: false, problems };
  }

  const serverName = e.SERVER_DOMAIN?.toLowerCase() ??
    serverNameFromProductDns(manifest.value.product.dns);
  const clientCertPath = e.CLIENT_CERT_PATH ?? `${e.PERSISTENT_DATA_PATH}/public/mtlsclient.pem`;
  const clientKeyPath = e.CLIENT_KEY_PATH ?? `${e.PERSISTENT_DATA_PATH}/private/mtlsclient.key`;
  const publicUrl = (e.SYNAPSE_PUBLIC_URL ?? _defaultPublicUrl(manifest.value, serverName))
    .replace(/\/*$/, "/");
  const config: Config = {
    synapse: {
      url: e.SYNAPSE_URL.replace(/\/+$/, ""),
      registrationSecret: e.SYNAPSE_REGISTRATION_SECRET,
      botUsername: e.SYNAPSE_BOT_USERNAME,
      ingestBotUsername: e.BATTLELOG_BOT_USERNAME,
      // The Python original kept it here (its PERSISTENT_DATA_PATH is /data/persistent).
      legacyTokenFile: e.SYNAPSE_TOKEN_FILE ?? `${e.PERSISTENT_DATA_PATH}/synapse_admin_token`,
      publicUrl,
    },
    serverName,
    manifest: manifest.value,
    manifestPath: e.KRAFTWERK_MANIFEST,
    manifestFound: manifest.found,
    dataPath: e.PERSISTENT_DATA_PATH,
    kvPath: e.KV_PATH ?? `${e.PERSISTENT_DATA_PATH}/matrixrmapi.kv`,
    clientCertPath,
    clientKeyPath,
    mtls: {
      enabled: e.MTLS_ENABLED,
      port: e.MTLS_PORT,
      serverCertPath: e.MTLS_SERVER_CERT_PATH ?? clientCertPath,
      serverKeyPath: e.MTLS_SERVER_KEY_PATH ?? clientKeyPath,
      caPath: e.LOCAL_CA_CERTS_PATH,
      caGlob: e.LOCAL_CA_CERTS_GLOB,
      crlPath: e.MTLS_CRL_PATH ?? null,
    },
    http: { port: e.HTTP_PORT },
    limits: {
      headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_S * 1000,
      requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_S * 1000,
      idleTimeoutMs: e.HTTP_IDLE_TIMEOUT_S * 1000,
      maxConnections: e.HTTP_MAX_CONNECTIONS,
    },
    bindHost: e.BIND_HOST,
    proxy: {
      trustHeader: e.MTLS_TRUST_PROXY_HEADER,
      headerName: e.MTLS_HEADER_NAME,
      trustedProxies: trustedProxies.blocks,
    },
    log: { level: LEVELS[e.LOG_LEVEL] ?? "info", format: e.LOG_CONSOLE_FORMATTER },
    reconcile: {
      rmBaseUri: manifest.value.rasenmaeher.mtls?.base_uri ?? null,
      intervalMs: e.RECONCILE_INTERVAL_S * 1000,
      dryRun: e.RECONCILE_DRY_RUN,
    },
    unhealthyAfterMs: e.HEALTH_UNHEALTHY_AFTER_S * 1000,
    keycloak: {
      baseUrl: (e.KEYCLOAK_URL ?? `https://${e.KCDOMAIN ?? `kc.${serverName}`}:9443/`)
        .replace(/\/*$/, "/"),
      realm: e.KCREALM,
      registrationPath: e.OIDC_REGISTRATION_PATH ??
        `${e.PERSISTENT_DATA_PATH}/oidc/registration.json`,
      redirectUri: `${publicUrl}_synapse/client/oidc/callback`,
    },
  };
  return { ok: true, config, warnings };
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
