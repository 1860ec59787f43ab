/**
 * @module The whole service as one object: `createService({ config, kv, log })` builds every part
 * and owns their supervision — the product certificate, Synapse's login client in Keycloak, the
 * bot's session (bootstrap, and again after a rejected token), the lifecycle worker and the
 * reconciliation schedule, each a supervised task — and the two listeners around the app.
 * `main.ts` only parses arguments, opens KV and waits for a signal; tests build it in-process.
 */
import { synapseSsoCallback } from "../synapse/sso.ts";
import type { Config } from "../config/config.ts";
import { readCsrJwt, readTextOrNull } from "../config/config.ts";
import { type CertificateManager, createCertificateManager } from "../certificate/manager.ts";
import { createRmProductApi } from "../rm/product_api.ts";
import { createOidcRegistration, type OidcRegistration } from "../keycloak/oidc_client.ts";
import { createRegistrationApi } from "../keycloak/registration_api.ts";
import { createApp } from "../http/app.ts";
import type { App } from "../http/deps.ts";
import type { Lifecycle } from "../lifecycle/lifecycle.ts";
import { createRegistry, METRICS, type Registry } from "../metrics/registry.ts";
import { createPowerLevelWriter } from "../rooms/power_levels.ts";
import { createRoomLocks } from "../rooms/locks.ts";
import { createWishStore } from "../store/wishes.ts";
import { createWorker, type Worker } from "../lifecycle/worker.ts";
import { createDurableLifecycle } from "../lifecycle/durable.ts";
import type { Logger } from "../log/logger.ts";
import { loadCaCertificates } from "../server/ca.ts";
import { createStore } from "../store/store.ts";
import { createSynapseHttp } from "../synapse/http.ts";
import { createBootstrap } from "../bootstrap/bootstrap.ts";
import { type BotSession, createBotSession } from "../bootstrap/session.ts";
import { createSupervisor } from "./supervise.ts";
import { type Listening, startMtls, startPlain } from "./listeners.ts";
import { createObserver } from "./observe.ts";
import { createMtlsListenerState } from "../transport/listener_state.ts";
import { createServiceReconciler } from "./reconciler.ts";
import { createServiceInterop } from "./interop.ts";

export interface ServiceOptions {
  readonly config: Config;
  /** The service's database; the caller opens and closes it. */
  readonly kv: Deno.Kv;
  readonly log: Logger;
  /** The time, for health and status. @default () => new Date() */
  readonly clock?: () => Date;
}

export interface Service {
  /** The HTTP app (also usable without listeners: `app.fetch`). */
  readonly app: App;
  /** Starts the background tasks, then the listeners; resolves once the plain listener answers. */
  start(): Promise<void>;
  /** Stops the listeners, then the tasks; resolves when everything has ended. */
  stop(): Promise<void>;
  /** Settles if the service cannot go on (the mTLS listener could not start). */
  readonly fatal: Promise<Error>;
  /** The parts, for tests and tools that look inside. */
  readonly parts: {
    readonly session: BotSession;
    readonly worker: Worker;
    readonly lifecycle: Lifecycle;
    readonly certificate: CertificateManager;
    readonly oidc: OidcRegistration;
    readonly metrics: Registry;
  };
}

export function createService(o: ServiceOptions): Service {
  const { config, kv, log } = o;
  const clock = o.clock ?? (() => new Date());
  const metrics = createRegistry(METRICS);
  const caPems = () => loadCaCertificates(config.mtls.caPath, config.mtls.caGlob);
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
  const synapse = createSynapseHttp({
    baseUrl: config.synapse.url,
    onResponse: (endpoint, status, ms) => {
      metrics.inc("matrixrmapi_synapse_requests_total", { endpoint, status: String(status) });
      metrics.observe("matrixrmapi_synapse_request_seconds", ms / 1000, { endpoint });
    },
  });
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
  const wishes = createWishStore(kv, {
    onWrite: () => metrics.inc("matrixrmapi_kv_writes_total"),
  });
  const bot = createBotSession({ http: synapse, bootstrap });
  const levels = createPowerLevelWriter(bot, { locks });
  const work = createWorker({
    store: wishes,
    bot,
    levels,
    log: log.child({ component: "lifecycle" }),
  });
  const lifecycle = _counted(
    createDurableLifecycle({
      store: wishes,
      worker: work,
      log,
      notReadyReason: () => bot.current() === null ? `bootstrap ${bot.status().phase}` : null,
    }),
    metrics,
  );
  const supervisor = createSupervisor({
    log,
    now: clock,
    onFailure: (task) => metrics.inc("matrixrmapi_task_failures_total", { task }),
  });
  const reconciler = createServiceReconciler({
    config,
    certificate,
    rm,
    wishes,
    lifecycle,
    locks,
    bot,
    metrics,
    log: log.child({ component: "reconcile" }),
  });
  const mtlsState = createMtlsListenerState(config.mtls.enabled, clock);
  const observer = createObserver({
    config,
    startedAt: clock(),
    clock,
    session: bot,
    certificate,
    oidc,
    worker: work,
    supervisor,
    metrics,
    mtls: mtlsState,
  });
  const interop = createServiceInterop({
    config,
    kv,
    http: synapse,
    bot,
    caPems,
    metrics,
    log: log.child({ component: "interop" }),
  });
  const app = createApp({
    config,
    lifecycle,
    interop,
    health: observer.health,
    status: async () => ({ ...await observer.snapshot(), interop: await interop.status() }),
    metrics: () => metrics.render(),
    reconcile: async (dryRun) => {
      if (reconciler === null || bot.current() === null) return null;
      return await reconciler.run({ dryRun: dryRun || config.reconcile.dryRun });
    },
    log,
  });
  const fetch = app.fetch.bind(app);

  const fatal = Promise.withResolvers<Error>();
  const listeners: Listening[] = [];
  const stopListeners = new AbortController();
  let mtlsStarting: Promise<Listening | null> = Promise.resolve(null);
  let started = false;
  let stopped: Promise<void> | null = null;

  return {
    app,
    fatal: fatal.promise,
    parts: { session: bot, worker: work, lifecycle, certificate, oidc, metrics },
    async start() {
      if (started) throw new Error("the service was started already");
      started = true;
      // Everything in the background, so the API answers from the first moment.
      supervisor.task("certificate", (signal) => certificate.run(signal));
      supervisor.task("oidc_client", (signal) => oidc.run(signal));
      supervisor.task("bootstrap", (signal) => bot.run(signal));
      supervisor.task("worker", (signal) => work.run(signal));
      supervisor.task("interop", (signal) => interop.run(signal));
      if (reconciler !== null && config.reconcile.intervalMs > 0) {
        supervisor.every("reconcile", config.reconcile.intervalMs, async () => {
          if (bot.current() === null) return;
          // A failed list is logged and counted by the reconciler; a throw by the supervisor.
          await reconciler.run({ dryRun: config.reconcile.dryRun });
        });
      }
      if (!config.mtls.enabled) {
        log.warn("mTLS listener disabled (MTLS_ENABLED=false)");
      } else {
        const managed = config.mtls.serverCertPath === config.clientCertPath &&
          config.mtls.serverKeyPath === config.clientKeyPath;
        mtlsStarting = startMtls({
          config,
          fetch,
          log,
          certificate,
          state: mtlsState,
          signal: stopListeners.signal,
          metrics,
        });
        if (!managed) {
          const mtls = await mtlsStarting; // a broken fixed pair fails the start-up
          if (mtls !== null) listeners.push(mtls);
        } else {
          mtlsStarting.catch((err) => {
            mtlsState.enter("error", (err as Error).message);
            log.error("the mTLS listener could not start; stopping", { error: err });
            fatal.resolve(err instanceof Error ? err : new Error(String(err)));
            return null;
          });
        }
      }
      // The plain listener (and with it the healthcheck) comes up last: once it answers, both do.
      listeners.push(await startPlain(config, fetch, log, metrics));
    },
    stop() {
      stopped ??= (async () => {
        stopListeners.abort();
        const late = await mtlsStarting.catch(() => null);
        if (late !== null && !listeners.includes(late)) listeners.push(late);
        for (const listener of listeners.reverse()) {
          await listener.close().catch((err) => log.warn("error while closing", { error: err }));
        }
        await supervisor.stop();
      })();
      return stopped;
    },
  };
}

/** Counts callbacks by route and result for `/metrics`. */
function _counted(inner: Lifecycle, metrics: Registry): Lifecycle {
  return {
    async submit(event, options) {
      const outcome = await inner.submit(event, options);
      metrics.inc("matrixrmapi_callbacks_total", { route: event.action, result: outcome.kind });
      return outcome;
    },
  };
}
