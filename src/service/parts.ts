/**
 * @module The service's parts, built in dependency order without late binding: the product's
 * identity (RM's client, the certificate, Synapse's login client) and the lifecycle (Synapse's
 * client, the room locks, the bootstrap and the bot's session, the power-level writer, the wish
 * store, the worker and the durable lifecycle). `createService` supervises and serves them.
 */
import { synapseSsoCallback } from "../synapse/sso.ts";
import type { Config } from "../config/config.ts";
import { readCsrJwt, readTextOrNull } from "../config/config.ts";
import { type CertificateManager, createCertificateManager } from "../certificate/manager.ts";
import { createRmProductApi, type RmProductApi } from "../rm/product_api.ts";
import { createOidcRegistration, type OidcRegistration } from "../keycloak/oidc_client.ts";
import { createRegistrationApi } from "../keycloak/registration_api.ts";
import type { Lifecycle } from "../lifecycle/lifecycle.ts";
import type { Registry } from "../metrics/registry.ts";
import { createPowerLevelWriter } from "../rooms/power_levels.ts";
import { createRoomLocks, type RoomLocks } from "../rooms/locks.ts";
import { createWishStore, type WishStore } from "../store/wishes.ts";
import { createWorker, type Worker, type WorkerOptions } from "../lifecycle/worker.ts";
import { createDurableLifecycle } from "../lifecycle/durable.ts";
import type { Logger } from "../log/logger.ts";
import { createStore } from "../store/store.ts";
import { createSynapseHttp, type SynapseHttp } from "../synapse/http.ts";
import { type Bootstrap, createBootstrap } from "../bootstrap/bootstrap.ts";
import { type BotSession, createBotSession } from "../bot/session.ts";

export interface IdentityParts {
  readonly rm: RmProductApi;
  readonly certificate: CertificateManager;
  readonly oidc: OidcRegistration;
}

/** RM's client, the product certificate, and Synapse's login client in Keycloak. */
export function createIdentityParts(o: {
  readonly config: Config;
  readonly log: Logger;
  readonly clock: () => Date;
  readonly caPems: () => Promise<string[]>;
}): IdentityParts {
  const { config, log, clock, caPems } = o;
  const rm = createRmProductApi({
    initBaseUri: config.manifest.rasenmaeher.init?.base_uri ?? null,
    mtlsBaseUri: config.manifest.rasenmaeher.mtls?.base_uri ?? null,
    caPems,
  });
  const certificate = createCertificateManager({
    paths: { certPath: config.clientCertPath, keyPath: config.clientKeyPath },
    cn: config.manifest.product.dns,
    csrJwt: () => readCsrJwt(config.manifestPath),
    rm,
    caPems,
    log: log.child({ component: "certificate" }),
    now: clock,
    managedBy: config.clientCertManagedBy,
  });
  // Synapse's login client: independent of Synapse (which waits for the file), after the
  // certificate only when it must register anew.
  const oidc = createOidcRegistration({
    path: config.keycloak.registrationPath,
    redirectUri: config.keycloak.redirectUri,
    api: createRegistrationApi({
      baseUrl: config.keycloak.baseUrl,
      realm: config.keycloak.realm,
      caPems,
    }),
    certificate,
    kcToken: (pair) => rm.kcToken(pair),
    synapseCallback: () => synapseSsoCallback({ baseUrl: config.synapse.url }),
    log: log.child({ component: "oidc" }),
  });
  return { rm, certificate, oidc };
}

export interface LifecycleParts {
  readonly synapse: SynapseHttp;
  readonly bot: BotSession;
  readonly locks: RoomLocks;
  readonly wishes: WishStore;
  readonly worker: Worker;
  readonly lifecycle: Lifecycle;
}

/** Everything between a recorded wish and Synapse, the bot's session first. */
export function createLifecycleParts(o: {
  readonly config: Config;
  readonly kv: Deno.Kv;
  readonly log: Logger;
  readonly metrics: Registry;
}): LifecycleParts {
  const { config, kv, log, metrics } = o;
  const synapse = createSynapseHttp({ baseUrl: config.synapse.url, metrics });
  // One lock per room for every power-level write of this process: the bootstrap's, the
  // lifecycle serialiser's (calling as the bot's session) and the drift pass's.
  const locks = createRoomLocks();
  const bootstrap = createBootstrap({
    http: synapse,
    store: createStore(kv),
    registrationSecret: config.synapse.registrationSecret,
    botUsername: config.synapse.botUsername,
    serverName: config.serverName,
    deployment: config.manifest.deployment,
    legacyTokenFile: config.synapse.legacyTokenFile,
    readText: readTextOrNull,
    locks,
    log: log.child({ component: "bootstrap" }),
  });
  return { synapse, locks, ...wireLifecycle({ synapse, bootstrap, locks, kv, log, metrics }) };
}

/**
 * The lifecycle behind a bootstrap: the bot's session, the power-level writer, the wish store,
 * the worker and the durable lifecycle. Production (above) and the lifecycle tests build it here.
 */
export function wireLifecycle(o: {
  readonly synapse: SynapseHttp;
  readonly bootstrap: Bootstrap;
  /** The process's room locks, which the bootstrap also takes. */
  readonly locks: RoomLocks;
  readonly kv: Deno.Kv;
  readonly log: Logger;
  readonly metrics: Registry;
  /** The worker's pace, where it is not the default (tests: a short backoff). */
  readonly pace?: Pick<WorkerOptions, "concurrency" | "maxBackoffMs" | "loginPollMs">;
}): Omit<LifecycleParts, "synapse" | "locks"> {
  const { kv, log, metrics } = o;
  const wishes = createWishStore(kv, { metrics });
  const bot = createBotSession({ http: o.synapse, bootstrap: o.bootstrap });
  const worker = createWorker({
    ...o.pace,
    store: wishes,
    bot,
    levels: createPowerLevelWriter(bot, o.locks),
    log: log.child({ component: "lifecycle" }),
  });
  const lifecycle = createDurableLifecycle({ store: wishes, worker, log, bot, metrics });
  return { bot, wishes, worker, lifecycle };
}
