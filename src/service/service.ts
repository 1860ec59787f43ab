/**
 * @module The whole service as one object: `createService({ config, kv, log })` builds every part
 * and owns their supervision — the product certificate, Synapse's login client in Keycloak, the
 * bot's session (bootstrap, and again after a rejected token), the lifecycle worker and the
 * reconciliation schedule, each a supervised task — and the two listeners around the app.
 * `main.ts` only parses arguments, opens KV and waits for a signal; tests build it in-process.
 */
import type { Config } from "../config/config.ts";
import { createApp } from "../http/app.ts";
import type { App } from "../http/deps.ts";
import { createRegistry, METRICS } from "../metrics/registry.ts";
import type { Logger } from "../log/logger.ts";
import { loadCaCertificates } from "../server/ca.ts";
import { createSupervisor } from "./supervise.ts";
import { type Listening, startMtls, startPlain } from "./listeners.ts";
import { createObserver } from "./observe.ts";
import { createMtlsListenerState } from "../transport/listener_state.ts";
import { createServiceReconciler } from "./reconciler.ts";
import { createServiceInterop } from "./interop.ts";
import { createIdentityParts, createLifecycleParts } from "./parts.ts";

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
}

export function createService(o: ServiceOptions): Service {
  const { config, kv, log } = o;
  const clock = o.clock ?? (() => new Date());
  const metrics = createRegistry(METRICS);
  const caPems = () => loadCaCertificates(config.mtls.caPath, config.mtls.caGlob);
  const { rm, certificate, oidc } = createIdentityParts({ config, log, clock, caPems });
  const { synapse, bot, locks, wishes, worker, lifecycle } = createLifecycleParts({
    config,
    kv,
    log,
    metrics,
  });
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
    worker,
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
    async start() {
      if (started) throw new Error("the service was started already");
      started = true;
      _superviseAll(supervisor, { certificate, oidc, bot, worker, interop }, () => {
        if (reconciler === null || config.reconcile.intervalMs === 0) return null;
        return [config.reconcile.intervalMs, async () => {
          if (bot.current() === null) return;
          // A failed list is logged and counted by the reconciler; a throw by the supervisor.
          await reconciler.run({ dryRun: config.reconcile.dryRun });
        }];
      });
      mtlsStarting = _startMtls(
        {
          config,
          fetch,
          log,
          certificate,
          state: mtlsState,
          signal: stopListeners.signal,
          metrics,
        },
        listeners,
        fatal.resolve,
      );
      // A fixed pair that cannot be served fails the start-up; the product pair's later failure
      // is fatal (the mTLS listener is how RM reaches us).
      if (!_managedPair(config)) await mtlsStarting;
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

/** Whether the mTLS listener presents the product pair (which may appear only later). */
function _managedPair(config: Config): boolean {
  return config.mtls.serverCertPath === config.clientCertPath &&
    config.mtls.serverKeyPath === config.clientKeyPath;
}

/**
 * Starts the mTLS listener (unless disabled); once it listens it joins `listeners`. A failure
 * with the product pair resolves `fatal`; with a fixed pair it rejects, failing the start-up.
 */
function _startMtls(
  options: Parameters<typeof startMtls>[0],
  listeners: Listening[],
  fatal: (err: Error) => void,
): Promise<Listening | null> {
  const { config, log, state } = options;
  if (!config.mtls.enabled) {
    log.warn("mTLS listener disabled (MTLS_ENABLED=false)");
    return Promise.resolve(null);
  }
  const starting = startMtls(options).then((mtls) => {
    if (mtls !== null) listeners.push(mtls);
    return mtls;
  });
  if (!_managedPair(config)) return starting;
  return starting.catch((err) => {
    state.enter("error", (err as Error).message);
    log.error("the mTLS listener could not start; stopping", { error: err });
    fatal(err instanceof Error ? err : new Error(String(err)));
    return null;
  });
}

/** Every background part under the supervisor, and the reconciliation on its schedule if any. */
function _superviseAll(
  supervisor: ReturnType<typeof createSupervisor>,
  parts: Readonly<Record<"certificate" | "oidc" | "bot" | "worker" | "interop", Runs>>,
  schedule: () => readonly [intervalMs: number, run: () => Promise<void>] | null,
): void {
  // Everything in the background, so the API answers from the first moment.
  supervisor.task("certificate", (signal) => parts.certificate.run(signal));
  supervisor.task("oidc_client", (signal) => parts.oidc.run(signal));
  supervisor.task("bootstrap", (signal) => parts.bot.run(signal));
  supervisor.task("worker", (signal) => parts.worker.run(signal));
  supervisor.task("interop", (signal) => parts.interop.run(signal));
  const reconcile = schedule();
  if (reconcile !== null) supervisor.every("reconcile", ...reconcile);
}

/** A part that runs in the background until its signal aborts. */
interface Runs {
  run(signal: AbortSignal): Promise<unknown>;
}
