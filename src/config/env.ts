/**
 * @module The environment the service reads, as one zod schema: every variable's name (the
 * ecosystem's), type, range and default; `ENV_NAMES` is the permission set's list.
 */
import { z } from "zod";
import type { LogLevel } from "../log/logger.ts";

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
export const EnvSchema = z.object({
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
  // Connection budgets (per listener; docs/operations/configuration.md, "Listeners", says why
  // these defaults).
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

/** `LOG_LEVEL` as Python's logging names or numbers. */
export const LEVELS: Record<string, LogLevel> = {
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

export type Env = z.infer<typeof EnvSchema>;
