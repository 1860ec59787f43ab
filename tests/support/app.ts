/** @module In-process requests against `createApp` as RM, as a person, or with no certificate. */
import { createApp } from "../../src/http/app.ts";
import type { AppBindings, PeerIdentity } from "../../src/transport/bindings.ts";
import {
  createUnavailableLifecycle,
  type Lifecycle,
  type LifecycleEvent,
} from "../../src/lifecycle/lifecycle.ts";
import { createMemoryLogger } from "../../src/log/logger.ts";
import { testConfig } from "./config.ts";
import type { UserCRUDRequest } from "../../src/http/schemas.ts";
import type { App } from "../../src/http/app.ts";
import type { Config } from "../../src/config/config.ts";
import type { ServiceSnapshot } from "../../src/status/report.ts";

/** A canned status snapshot for apps that do not run a service. */
export const TEST_SNAPSHOT: ServiceSnapshot = {
  bootstrap: {
    phase: "ready",
    since: new Date("2026-01-01T00:00:00.000Z"),
    attempt: 1,
    lastError: null,
    lastErrorAt: null,
    botUserId: "@matrixrmapi-bot:golden-monkey.dev.example.fi",
    rooms: null,
  },
  certificate: {
    phase: "ready",
    since: new Date(0),
    attempt: 0,
    lastError: null,
    lastErrorAt: null,
    certificate: null,
    managedBy: "self",
  },
  oidc: {
    phase: "ready",
    since: new Date(0),
    attempt: 0,
    lastError: null,
    lastErrorAt: null,
    clientId: "c1",
    redirectUri: "https://synapse.golden-monkey.dev.example.fi/_synapse/client/oidc/callback",
    synapseConfirmed: true,
  },
  pending: { count: 0, oldestAgeSeconds: null, users: [] },
  mtls: {
    phase: "disabled",
    since: new Date("2026-01-01T00:00:00Z"),
    detail: null,
    crl: null,
    ocsp: null,
  },
  tasks: [],
  now: new Date(0),
};

export interface TestApp {
  readonly app: App;
  readonly config: Config;
  readonly log: ReturnType<typeof createMemoryLogger>;
  /** Every event that reached the lifecycle, in order. */
  readonly submitted: LifecycleEvent[];
  postJson(path: string, body: unknown, env: AppBindings, method?: string): Promise<Response>;
}

export const RM: PeerIdentity = {
  cn: "rasenmaeher",
  dn: "CN=rasenmaeher,O=N/A",
  serial: "1f",
  via: "mtls",
};
export const PERSON: PeerIdentity = {
  cn: "ROTTA01a",
  dn: "CN=ROTTA01a",
  serial: "2a",
  via: "mtls",
};

export const mtls = (identity: PeerIdentity): AppBindings => ({
  transport: { kind: "mtls", identity, remoteAddress: "127.0.0.1" },
});
export const plain = (remoteAddress = "192.0.2.10"): AppBindings => ({
  transport: { kind: "plain", remoteAddress },
});

/** A valid `UserCRUDRequest` body for `callsign`. */
export const crud = (callsign = "ROTTA01a"): UserCRUDRequest => ({
  uuid: "6f1c1b36-7c1b-4f54-9d86-3f3c2d8e0a11",
  callsign,
  x509cert: "-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n",
});

/** Builds an app with a recording lifecycle; `submitted` collects what reached it. */
export async function testApp(
  options: { env?: Record<string, string>; lifecycle?: Lifecycle } = {},
): Promise<TestApp> {
  const config = await testConfig(options.env ?? {});
  const log = createMemoryLogger();
  const submitted: LifecycleEvent[] = [];
  const inner = options.lifecycle ?? createUnavailableLifecycle();
  const app = createApp({
    config,
    lifecycle: { submit: (e) => (submitted.push(e), inner.submit(e)) },
    health: () => ({ healthy: true, extra: "test" }),
    status: () => TEST_SNAPSHOT,
    metrics: () => Promise.resolve("# HELP x y\n"),
    reconcile: () => Promise.resolve(null),
    log,
  });
  const postJson = async (path: string, body: unknown, env: AppBindings, method = "POST") =>
    await app.request(path, {
      method,
      headers: { "content-type": "application/json" },
      body: typeof body === "string" ? body : JSON.stringify(body),
    }, env);
  return { app, config, log, submitted, postJson };
}
