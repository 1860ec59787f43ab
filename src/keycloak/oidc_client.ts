/**
 * @module Synapse's login client in Keycloak, kept as a background task: adopt and check the
 * `registration.json` on the volume through Keycloak's client-registration management API, correct
 * its redirect URIs to Synapse's exact callback, and register anew (initial access token from RM's
 * `kctoken`) only when the client is gone or the file is unusable. Never waits for Synapse.
 */
import type { Logger } from "../log/logger.ts";
import type { ClientPair, KcTokenResult } from "../rm/product_api.ts";
import { setAside, writeAtomic } from "../certificate/files.ts";
import { readTextOrNull } from "../config/config.ts";
import { backoffMs, sleep } from "../util/sleep.ts";
import { createPhases, type Phases, type PhaseStatus } from "../util/phases.ts";
import { RegisteredClient, type RegistrationApi } from "./registration_api.ts";

export const OIDC_PHASES = [
  "checking",
  "waiting_for_certificate",
  "registering",
  "ready",
  "error",
] as const;
export type OidcPhase = typeof OIDC_PHASES[number];

/** What the login client's status says besides its phase. */
interface OidcExtra {
  /** The registered client's ID (public in OIDC; the secret is never shown). */
  readonly clientId: string | null;
  /** The one redirect URI the client allows: Synapse's own callback once Synapse told us. */
  readonly redirectUri: string;
  /** Whether Synapse confirmed that callback (`null`: Synapse not asked or not up yet). */
  readonly synapseConfirmed: boolean | null;
}

export type OidcStatus = PhaseStatus<OidcPhase> & OidcExtra;

export interface OidcRegistration {
  run(signal: AbortSignal): Promise<void>;
  status(): OidcStatus;
}

export interface OidcRegistrationOptions {
  /** Where Synapse reads the client (`$PERSISTENT_DATA_PATH/oidc/registration.json`). */
  readonly path: string;
  /** `{SYNAPSE_PUBLIC_URL}_synapse/client/oidc/callback`: the only redirect URI allowed. */
  readonly redirectUri: string;
  /** @default "Synapse" */
  readonly clientName?: string;
  readonly api: RegistrationApi;
  /** The product certificate: RM's `kctoken` needs it. */
  readonly certificate: {
    current(): ClientPair | null;
    whenReady(signal: AbortSignal): Promise<ClientPair | null>;
  };
  readonly kcToken: (pair: ClientPair) => Promise<KcTokenResult>;
  /**
   * The callback Synapse itself sends (`null` while Synapse is not up). When it differs from
   * `redirectUri`, Synapse is right: the client is registered or corrected to it.
   */
  readonly synapseCallback?: () => Promise<string | null>;
  readonly log: Logger;
  /** Backoff after a failure: first and cap, in ms. @default [2000, 60000] */
  readonly retryMs?: readonly [number, number];
  /** How often a working client is looked at again. @default 3600000 */
  readonly recheckMs?: number;
}

/** How soon a working client is looked at again while Synapse has not confirmed its callback. */
const UNCONFIRMED_RECHECK_MS = 30_000;

/** How many initial access tokens one registration attempt may use before backing off. */
const TOKEN_ROUNDS = 3;

export function createOidcRegistration(o: OidcRegistrationOptions): OidcRegistration {
  const [firstMs, capMs] = o.retryMs ?? [2000, 60_000];
  const recheckMs = o.recheckMs ?? 3_600_000;
  const clientName = o.clientName ?? "Synapse";
  const log = o.log;
  const phases = createPhases<OidcPhase, OidcExtra>("checking", {
    clientId: null,
    redirectUri: o.redirectUri,
    synapseConfirmed: null,
  });
  const status = phases.status;
  const enter = phases.enter;

  function ready(client: RegisteredClient): number {
    if (status().phase !== "ready" || status().clientId !== client.client_id) {
      log.info("Synapse's OIDC client is registered in Keycloak", {
        client_id: client.client_id,
        path: o.path,
      });
    }
    phases.succeed("ready");
    phases.update({ clientId: client.client_id });
    // Until Synapse has told us its callback, look again soon: it starts after us.
    return o.synapseCallback !== undefined && status().synapseConfirmed === null
      ? Math.min(recheckMs, UNCONFIRMED_RECHECK_MS)
      : recheckMs;
  }

  function failed(message: string): number {
    const attempt = phases.fail("error", message);
    log.error(`OIDC client registration: ${message}`, { attempt });
    return backoffMs(attempt - 1, firstMs, capMs);
  }

  const save = (client: RegisteredClient) => _save(o.path, client);
  const adopt = () => _adopt(o.path, log);

  async function check(client: RegisteredClient): Promise<number | "gone"> {
    const read = await o.api.read(client);
    if (!read.ok) return read.kind === "gone" ? "gone" : failed(read.message);
    // A read does not rotate the registration access token; keep ours if the reply omits it.
    const current = { ...client, ...read.client };
    if (_exactly(current.redirect_uris, status().redirectUri)) {
      if (JSON.stringify(current) !== JSON.stringify(client)) await save(current);
      return ready(current);
    }
    const metadata = _metadata(current, status().redirectUri);
    const updated = await o.api.update(current, metadata);
    if (!updated.ok) return updated.kind === "gone" ? "gone" : failed(updated.message);
    await save(updated.client); // the update answered with a new registration access token
    log.warn("corrected the OIDC client's redirect URIs to Synapse's exact callback", {
      client_id: updated.client.client_id,
      was: current.redirect_uris ?? [],
      now: updated.client.redirect_uris ?? [],
    });
    return ready(updated.client);
  }

  async function register(signal: AbortSignal): Promise<number> {
    let pair = o.certificate.current();
    if (pair === null) {
      enter("waiting_for_certificate");
      pair = await o.certificate.whenReady(signal);
      if (pair === null) return 0; // stopping
    }
    enter("registering");
    const metadata = { client_name: clientName, redirect_uris: [status().redirectUri] };
    // RM's kctoken lives one second (python-keycloak's expiration=1, which Keycloak reads as
    // seconds): it is fetched when all else is ready and used at once, and a token Keycloak
    // refuses (401: expired, or used) is replaced at once, a few times, before any backoff.
    for (let round = 1;; round++) {
      const iat = await o.kcToken(pair);
      if (!iat.ok) return failed(`cannot get an initial access token from RM: ${iat.message}`);
      const created = await o.api.register(iat.token, metadata);
      if (created.ok) {
        await save(created.client);
        return ready(created.client);
      }
      if (created.kind !== "gone" || round >= TOKEN_ROUNDS) return failed(created.message);
      log.warn("Keycloak refused RM's initial access token; fetching another at once", {
        round,
        reason: created.message,
      });
    }
  }

  async function step(signal: AbortSignal): Promise<number> {
    await _learnCallback(o, phases);
    const client = await adopt();
    if (client !== null) {
      const outcome = await check(client);
      if (outcome !== "gone") return outcome;
      const aside = await setAside(o.path, new Date());
      log.warn("Keycloak no longer accepts the registered client (deleted?); registering anew", {
        client_id: client.client_id,
        moved_to: aside,
        note:
          "Synapse renders its configuration once: recreate its container after the new registration",
      });
    }
    return await register(signal);
  }

  return {
    async run(signal) {
      while (!signal.aborted) {
        let waitMs: number;
        try {
          waitMs = await step(signal);
        } catch (err) {
          waitMs = failed((err as Error).message);
        }
        await sleep(waitMs, signal);
      }
    },
    status,
  };
}

function _exactly(uris: readonly string[] | undefined, want: string): boolean {
  return uris !== undefined && uris.length === 1 && uris[0] === want;
}

/** The client's metadata for an update: as read, minus management fields, with one redirect. */
function _metadata(client: RegisteredClient, redirectUri: string): Record<string, unknown> {
  const { registration_access_token: _t, registration_client_uri: _u, ...metadata } = client;
  return { ...metadata, redirect_uris: [redirectUri] };
}

async function _save(path: string, client: RegisteredClient): Promise<void> {
  // Keycloak's reply as it came (what the Python image wrote too), readable by the owner only.
  await writeAtomic(path, JSON.stringify(client, null, 2) + "\n", 0o600);
}

/** The client in the file, or `null` when there is none or it was unusable (set aside). */
async function _adopt(path: string, log: Logger): Promise<RegisteredClient | null> {
  const text = await readTextOrNull(path);
  if (text === null) return null;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = RegisteredClient.safeParse(json);
  if (parsed.success) return parsed.data;
  const fields = parsed.error.issues.map((i) => i.path.join(".") || "(root)").join(", ");
  const aside = await setAside(path, new Date());
  log.warn("set aside a registration file this service cannot manage; registering anew", {
    problem: json === undefined ? "not JSON" : `missing or invalid: ${fields}`,
    moved_to: aside,
  });
  return null;
}

/** Asks Synapse for its callback; Synapse's answer wins over the configured one. */
async function _learnCallback(
  o: OidcRegistrationOptions,
  phases: Phases<OidcPhase, OidcExtra>,
): Promise<void> {
  if (o.synapseCallback === undefined) return;
  const told = await o.synapseCallback().catch(() => null);
  if (told === null) return; // not up yet (it starts after us): asked again at the next look
  if (told !== o.redirectUri && told !== phases.status().redirectUri) {
    o.log.error(
      "Synapse sends another login callback than SYNAPSE_PUBLIC_URL gives; using Synapse's",
      {
        synapse: told,
        configured: o.redirectUri,
        todo: "set SYNAPSE_PUBLIC_URL to Synapse's public_baseurl",
      },
    );
  }
  phases.update({ redirectUri: told, synapseConfirmed: told === o.redirectUri });
}
