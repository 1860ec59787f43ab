/**
 * @module Keycloak beside Synapse as the deployment has them: a realm, Synapse's OIDC client
 * registered by this service's own registration task (src/keycloak/oidc_client.ts) with an
 * initial access token from Keycloak's admin API (RM's part), and the provider Synapse is started
 * with, read from the written `registration.json` as docker-synapse-server's entrypoint reads it.
 */
import { type Keycloak, startKeycloak } from "./keycloak.ts";
import type { OidcProvider } from "../synapse/homeserver.ts";
import { createOidcRegistration } from "../../src/keycloak/oidc_client.ts";
import { createRegistrationApi } from "../../src/keycloak/registration_api.ts";
import { createLogger } from "../../src/log/logger.ts";

export interface SsoStack {
  readonly keycloak: Keycloak;
  readonly realm: string;
  /** The registration.json the service's task wrote. */
  readonly registrationPath: string;
  /** What Synapse's `oidc_providers` entry needs. */
  readonly provider: OidcProvider;
}

export interface SsoOptions {
  /** Where registration.json goes (its directory is created). */
  readonly registrationPath: string;
  /** Synapse's public base URL, ending in `/`: the callback is registered under it. */
  readonly synapsePublicUrl: string;
  /**
   * First register the client as an older deployment left it, under this other spelling of the
   * URL (`https://synapse.<domain>:443/`), so the service's own task must correct it.
   */
  readonly staleSynapsePublicUrl?: string;
  /** Where Synapse may send login tokens without a confirmation page. */
  readonly clientWhitelist?: readonly string[];
  /** @default "matrixrmapi" */
  readonly realm?: string;
  readonly signal?: AbortSignal;
  readonly log?: (line: string) => void;
}

/** Starts Keycloak, creates the realm and registers Synapse's client; stops Keycloak on failure. */
export async function startSsoStack(o: SsoOptions): Promise<SsoStack> {
  const keycloak = await startKeycloak({
    ...(o.signal === undefined ? {} : { signal: o.signal }),
    ...(o.log === undefined ? {} : { log: o.log }),
  });
  try {
    const realm = o.realm ?? "matrixrmapi";
    await keycloak.createRealm(realm);
    const register = (publicUrl: string) =>
      _registerOnce(
        o.registrationPath,
        `${publicUrl}_synapse/client/oidc/callback`,
        keycloak,
        realm,
      );
    if (o.staleSynapsePublicUrl !== undefined) await register(o.staleSynapsePublicUrl);
    await register(o.synapsePublicUrl);
    const file = JSON.parse(await Deno.readTextFile(o.registrationPath));
    return {
      keycloak,
      realm,
      registrationPath: o.registrationPath,
      provider: {
        issuer: `${keycloak.url}/realms/${realm}`,
        clientId: file.client_id,
        clientSecret: file.client_secret,
        clientWhitelist: o.clientWhitelist ?? [],
      },
    };
  } catch (err) {
    await keycloak.stop();
    throw err;
  }
}

/** Runs the service's registration task once to `ready` (adopting and correcting a file there). */
async function _registerOnce(
  path: string,
  redirectUri: string,
  keycloak: Keycloak,
  realm: string,
): Promise<void> {
  const task = createOidcRegistration({
    path,
    redirectUri,
    api: createRegistrationApi({
      baseUrl: `${keycloak.url}/`,
      realm,
      caPems: () => Promise.resolve([]),
    }),
    // RM's role: it holds Keycloak's admin credentials and hands out one-time tokens.
    certificate: { current: () => _NO_PAIR, whenReady: () => Promise.resolve(_NO_PAIR) },
    kcToken: async () => ({
      ok: true,
      token: await keycloak.initialAccessToken(realm, { count: 1, expiration: 1 }),
    }),
    log: createLogger({ level: "warn", format: "local" }),
    retryMs: [200, 1000],
  });
  const stop = new AbortController();
  const running = task.run(stop.signal);
  const deadline = Date.now() + 60_000;
  while (task.status().phase !== "ready" && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
  }
  stop.abort();
  await running;
  const status = task.status();
  if (status.phase !== "ready") {
    throw new Error(`Cannot register Synapse's OIDC client: ${status.lastError ?? status.phase}`);
  }
}

// The admin API needs no client certificate; the task's interface asks for one.
const _NO_PAIR = { certPem: "", keyPem: "" };
