/**
 * @module The one typed configuration: parsed once from the environment and the kraftwerk
 * manifest, with every problem reported under the variable it came from.
 */
import {
  DEVELOPMENT_MANIFEST,
  type Manifest,
  ManifestSchema,
  serverNameFromProductDns,
} from "./manifest.ts";
import { parseCidrList } from "./cidr.ts";
import type { CidrBlock } from "./cidr.ts";
import { type Env, ENV_NAMES, EnvSchema, LEVELS } from "./env.ts";
import { volumePaths } from "./volumes.ts";
import type { Config, ConfigResult } from "./types.ts";

export type { Config, ConfigResult } from "./types.ts";
export { ENV_NAMES } from "./env.ts";
export { loadVolumePathsFromProcess, type VolumePaths } from "./volumes.ts";

/** Reads a file's text, or `null` when it does not exist. Injected so tests need no files. */
export type ReadText = (path: string) => Promise<string | null>;

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
  const volumes = volumePaths(e);
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

/**
 * Reads the real process environment and files; with `volumes.ts`, the only code that reads
 * `Deno.env`.
 */
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
