/** @module `GET /api/v1/status`: the service's own state for operators (no secrets in it). */
import { createRoute, z } from "@hono/zod-openapi";
import type { App, AppDeps } from "../deps.ts";
import type { ServiceSnapshot, TaskReport } from "../../status/report.ts";
import type { PendingStatus } from "../../lifecycle/worker.ts";
import type { CertificateStatus } from "../../certificate/manager.ts";
import type { OidcStatus } from "../../keycloak/oidc_client.ts";
import type { BootstrapStatus } from "../../bootstrap/bootstrap.ts";
import type { MtlsListenerStatus } from "../../transport/listener_state.ts";
import type { InteropStatus } from "../../interop/interop.ts";
import { caller } from "../callers.ts";

/** What every background task reports: its phase, since when, and its last failure. */
const phaseFields = {
  phase: z.string(),
  since: z.string(),
  attempt: z.number().int(),
  last_error: z.string().nullable(),
  last_error_at: z.string().nullable(),
};

interface TaskState {
  readonly phase: string;
  readonly since: Date;
  readonly attempt: number;
  readonly lastError: string | null;
  readonly lastErrorAt: Date | null;
}

function phaseJson(s: TaskState) {
  return {
    phase: s.phase,
    since: s.since.toISOString(),
    attempt: s.attempt,
    last_error: s.lastError,
    last_error_at: s.lastErrorAt?.toISOString() ?? null,
  };
}

const OidcJson = z.object({
  ...phaseFields,
  client_id: z.string().nullable(),
  redirect_uri: z.string(),
  /** Whether Synapse itself confirmed that callback; null until Synapse has been asked. */
  synapse_confirmed: z.boolean().nullable(),
}).openapi("OidcClientStatus");

const CertificateJson = z.object({
  ...phaseFields,
  cn: z.string().nullable(),
  serial: z.string().nullable(),
  not_before: z.string().nullable(),
  not_after: z.string().nullable(),
  renew_at: z.string().nullable(),
  days_left: z.number().nullable(),
  managed_by: z.enum(["self", "external"]),
}).openapi("ProductCertificateStatus");

const MtlsListenerJson = z.object({
  phase: z.string(),
  since: z.string(),
  detail: z.string().nullable(),
  crl: z.object({
    configured: z.boolean(),
    in_force: z.number().int(),
    problems: z.array(z.string()),
  }).nullable(),
  ocsp: z.object({
    mode: z.enum(["off", "on", "required"]),
    url: z.string().nullable(),
    lookups: z.number().int(),
    cache_hits: z.number().int(),
    good: z.number().int(),
    revoked: z.number().int(),
    unknown: z.number().int(),
    failures: z.number().int(),
    problems: z.array(z.string()),
  }).nullable(),
}).openapi("MtlsListenerStatus");

export const StatusResponse = z.object({
  bootstrap: z.object({
    ...phaseFields,
    bot_user_id: z.string(),
    rooms: z.record(z.string(), z.string()).nullable(),
  }),
  certificate: CertificateJson,
  oidc: OidcJson,
  lifecycle: z.object({
    pending: z.number().int(),
    oldest_pending_age_seconds: z.number().nullable(),
    users: z.array(z.object({
      user_id: z.string(),
      pending_since: z.string().nullable(),
      attempts: z.number().int(),
      last_error: z.string().nullable(),
      waiting_for: z.string().nullable(),
    })),
  }),
  mtls_listener: MtlsListenerJson,
  tasks: z.array(z.object({
    name: z.string(),
    state: z.enum(["running", "restarting", "stopped"]),
    failures: z.number().int(),
    last_error: z.string().nullable(),
    last_error_at: z.string().nullable(),
  })),
  interop: z.object({
    grants: z.array(
      z.object({ certcn: z.string(), granted_at: z.string(), granted_by: z.string() }),
    ),
    ingest_bot: z.object({
      user_id: z.string(),
      ready: z.boolean(),
      device_id: z.string().nullable(),
      rooms: z.number().int().nullable(),
      last_pass_at: z.string().nullable(),
      last_error: z.string().nullable(),
      last_error_at: z.string().nullable(),
    }),
  }).optional(),
}).openapi("ServiceStatus");
export type StatusResponse = z.infer<typeof StatusResponse>;

const route = createRoute({
  method: "get",
  path: "/api/v1/status",
  tags: ["service"],
  summary: "Bootstrap state and pending work, for operators",
  ...caller("public", "Contains no secrets. Not part of RM's contract."),
  responses: {
    200: { description: "Status", content: { "application/json": { schema: StatusResponse } } },
  },
});

export function registerStatusRoutes(app: App, deps: AppDeps): void {
  app.openapi(route, async function status(c) {
    const s = await deps.status();
    return c.json(statusJson(s), 200);
  });
}

/** The service's state as the status endpoint (and the `status` command) shows it. */
export function statusJson(s: ServiceSnapshot): StatusResponse {
  return {
    bootstrap: bootstrapStatusJson(s.bootstrap),
    certificate: certificateStatusJson(s.certificate, s.now),
    oidc: oidcStatusJson(s.oidc),
    lifecycle: pendingJson(s.pending),
    mtls_listener: mtlsListenerJson(s.mtls),
    tasks: s.tasks.map(taskJson),
    ...(s.interop === undefined ? {} : { interop: interopJson(s.interop) }),
  };
}

/** Grants and the ingest bot; the bot's token never appears here. */
function interopJson(i: InteropStatus): NonNullable<StatusResponse["interop"]> {
  const b = i.ingestBot;
  return {
    grants: i.grants.map((g) => ({
      certcn: g.certcn,
      granted_at: g.grantedAt,
      granted_by: g.grantedBy,
    })),
    ingest_bot: {
      user_id: b.userId,
      ready: b.ready,
      device_id: b.deviceId,
      rooms: b.rooms,
      last_pass_at: b.lastPassAt?.toISOString() ?? null,
      last_error: b.lastError,
      last_error_at: b.lastErrorAt?.toISOString() ?? null,
    },
  };
}

function pendingJson(p: PendingStatus): StatusResponse["lifecycle"] {
  return {
    pending: p.count,
    oldest_pending_age_seconds: p.oldestAgeSeconds,
    users: p.users.map((u) => ({
      user_id: u.userId,
      pending_since: u.pendingSince?.toISOString() ?? null,
      attempts: u.attempts,
      last_error: u.lastError,
      waiting_for: u.waitingFor,
    })),
  };
}

function taskJson(t: TaskReport): StatusResponse["tasks"][number] {
  return {
    name: t.name,
    state: t.state,
    failures: t.failures,
    last_error: t.lastError,
    last_error_at: t.lastErrorAt?.toISOString() ?? null,
  };
}

/** The product certificate's state as the status endpoint shows it (never a PEM or token). */
function certificateStatusJson(
  s: CertificateStatus,
  now: Date,
): z.infer<typeof CertificateJson> {
  const c = s.certificate;
  return {
    ...phaseJson(s),
    cn: c?.cn ?? null,
    serial: c?.serial ?? null,
    not_before: c?.notBefore.toISOString() ?? null,
    not_after: c?.notAfter.toISOString() ?? null,
    renew_at: c?.renewAt.toISOString() ?? null,
    managed_by: s.managedBy,
    days_left: c === null ? null : Math.round((c.notAfter.getTime() - now.getTime()) / 864e4) / 10,
  };
}

/** Synapse's OIDC client as the status endpoint shows it (its ID, never its secret or tokens). */
function oidcStatusJson(s: OidcStatus): z.infer<typeof OidcJson> {
  return {
    ...phaseJson(s),
    client_id: s.clientId,
    redirect_uri: s.redirectUri,
    synapse_confirmed: s.synapseConfirmed,
  };
}

/** The bootstrap as the status endpoint shows it. */
function bootstrapStatusJson(s: BootstrapStatus): StatusResponse["bootstrap"] {
  return { ...phaseJson(s), bot_user_id: s.botUserId, rooms: s.rooms };
}

/** The direct mTLS listener as the status endpoint shows it. */
function mtlsListenerJson(s: MtlsListenerStatus): z.infer<typeof MtlsListenerJson> {
  return {
    phase: s.phase,
    since: s.since.toISOString(),
    detail: s.detail,
    crl: s.crl === null
      ? null
      : { configured: s.crl.configured, in_force: s.crl.inForce, problems: [...s.crl.problems] },
    ocsp: s.ocsp === null ? null : {
      mode: s.ocsp.mode,
      url: s.ocsp.url,
      lookups: s.ocsp.lookups,
      cache_hits: s.ocsp.cacheHits,
      good: s.ocsp.good,
      revoked: s.ocsp.revoked,
      unknown: s.ocsp.unknown,
      failures: s.ocsp.failures,
      problems: [...s.ocsp.problems],
    },
  };
}
