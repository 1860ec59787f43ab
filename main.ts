/**
 * @module The entry point and the only wiring: config → logger → KV → app → listeners, and the
 * CLI dispatch. Nothing imports this file.
 */
import { parseArgs, USAGE } from "./src/cli/args.ts";
import { runHealthcheck } from "./src/cli/healthcheck.ts";
import { runReconcile, runStatus } from "./src/cli/remote.ts";
import {
  type Config,
  loadConfigFromProcess,
  parseConfig,
  readCsrJwt,
  readTextOrNull,
} from "./src/config/config.ts";
import {
  CERTIFICATE_PHASES,
  type CertificateManager,
  createCertificateManager,
} from "./src/certificate/manager.ts";
import { createRmProductApi } from "./src/rm/product_api.ts";
import { createOidcRegistration, OIDC_PHASES } from "./src/keycloak/oidc_client.ts";
import { createRegistrationApi } from "./src/keycloak/registration_api.ts";
import {
  bootstrapStatusJson,
  certificateStatusJson,
  oidcStatusJson,
} from "./src/http/routes/status.ts";
import { createApp } from "./src/http/app.ts";
import { openApiDocument } from "./src/http/routes/docs.ts";
import { createUnavailableLifecycle, type Lifecycle } from "./src/lifecycle/lifecycle.ts";
import { createRegistry, METRICS, type Registry } from "./src/metrics/registry.ts";
import { createPowerLevelWriter, type PowerLevelWriter } from "./src/lifecycle/power_levels.ts";
import {
  createReconciler,
  type Reconciler,
  type ReconcileReport,
} from "./src/reconcile/reconcile.ts";
import { fetchPeople } from "./src/reconcile/rm_client.ts";
import { correctDrift } from "./src/reconcile/drift.ts";
import type { WishStore } from "./src/store/wishes.ts";
import type { SynapseHttp } from "./src/synapse/http.ts";
import type { Ready } from "./src/bootstrap/bootstrap.ts";
import type { ReconcileResponse } from "./src/http/routes/operations.ts";
import { createWishStore } from "./src/store/wishes.ts";
import { createWorker } from "./src/lifecycle/worker.ts";
import { createDurableLifecycle } from "./src/lifecycle/durable.ts";
import { createLogger, type Logger } from "./src/log/logger.ts";
import { startPlainListener } from "./src/server/plain.ts";
import { startMtlsListener } from "./src/server/mtls.ts";
import { loadCaCertificates } from "./src/server/ca.ts";
import { createCrlGuard } from "./src/server/crl.ts";
import { SERVICE_VERSION, versionLine } from "./src/version.ts";
import { createStore } from "./src/store/store.ts";
import { sleep } from "./src/util/sleep.ts";
import { dirname } from "./src/util/path.ts";
import { createSynapseHttp } from "./src/synapse/http.ts";
import { BOOTSTRAP_PHASES, createBootstrap } from "./src/bootstrap/bootstrap.ts";
import { summariseHealth } from "./src/bootstrap/health.ts";

const EXIT_CONFIG = 2;

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseArgs(argv);
  if (!parsed.ok) {
    _print(`${parsed.error}\n\n${USAGE}`, "stderr");
    return 64;
  }
  const command = parsed.command;
  switch (command.name) {
    case "help":
      _print(USAGE);
      return 0;
    case "version":
      _print(versionLine(Deno.version.deno) + "\n");
      return 0;
    case "healthcheck": {
      const result = await runHealthcheck(command);
      _print(result.message + "\n", result.code === 0 ? "stdout" : "stderr");
      return result.code;
    }
    case "status":
    case "reconcile": {
      const result = command.name === "status"
        ? await runStatus(command)
        : await runReconcile(command);
      _print(result.message + "\n", result.code === 0 ? "stdout" : "stderr");
      return result.code;
    }
    case "openapi": {
      // The document depends on the routes only; a documentation-only configuration builds them.
      const docs = await parseConfig(
        { SYNAPSE_REGISTRATION_SECRET: "-" },
        () => Promise.resolve(null),
      );
      if (!docs.ok) throw new Error("documentation config is invalid");
      const app = createApp({
        config: docs.config,
        lifecycle: createUnavailableLifecycle(),
        health: () => ({ healthy: false, extra: null }),
        status: () => {
          throw new Error("not served by the openapi command");
        },
        metrics: () => Promise.resolve(""),
        reconcile: () => Promise.resolve(null),
        log: createLogger({ level: "error" }),
      });
      _print(JSON.stringify(openApiDocument(app), null, 2) + "\n");
      return 0;
    }
    case "serve":
      return await serve();
  }
}

async function serve(): Promise<number> {
  const loaded = await loadConfigFromProcess();
  if (!loaded.ok) {
    _print(
      "matrixrmapi: invalid configuration:\n" + loaded.problems.map((p) => `  - ${p}\n`).join(""),
      "stderr",
    );
    return EXIT_CONFIG;
  }
  const config = loaded.config;
  const log = createLogger({ level: config.log.level, format: config.log.format });
  for (const warning of loaded.warnings) log.warn(warning);
  log.info("starting", {
    version: SERVICE_VERSION,
    server_name: config.serverName,
    deployment: config.manifest.deployment,
    synapse_url: config.synapse.url,
  });

  // Listen for signals first, so a stop request during start-up still shuts down cleanly.
  const stopped = Promise.withResolvers<void>();
  let exitCode = 0;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => stopped.resolve());
  }

  await Deno.mkdir(dirname(config.kvPath), { recursive: true });
  const kv = await Deno.openKv(config.kvPath);
  const closers: Array<() => Promise<void> | void> = [() => kv.close()];
  const store = createStore(kv);
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
    log: log.child({ component: "oidc" }),
  });
  const synapse = createSynapseHttp({
    baseUrl: config.synapse.url,
    onResponse: (endpoint, status, ms) => {
      metrics.inc("matrixrmapi_synapse_requests_total", { endpoint, status: String(status) });
      metrics.observe("matrixrmapi_synapse_request_seconds", ms / 1000, { endpoint });
    },
  });
  const bootstrap = createBootstrap({
    http: synapse,
    store,
    registrationSecret: config.synapse.registrationSecret,
    botUsername: config.synapse.botUsername,
    serverName: config.serverName,
    deployment: config.manifest.deployment,
    legacyTokenFile: config.synapse.legacyTokenFile,
    readText: readTextOrNull,
    log: log.child({ component: "bootstrap" }),
  });
  const startedAt = new Date();
  let tokenRejected = Promise.withResolvers<void>();
  const wishes = createWishStore(kv);
  // No token while the bootstrap runs again: fail the write plainly (retried with backoff) rather
  // than send an empty token, whose 401 would count as the bot's token being rejected once more.
  const levels = createPowerLevelWriter(synapse, () => {
    const ready = bootstrap.ready();
    if (ready === null) {
      throw new Error(`the bot is not ready (bootstrap ${bootstrap.status().phase})`);
    }
    return ready.token;
  });
  const worker = createWorker({
    store: wishes,
    http: synapse,
    levels,
    ready: () => bootstrap.ready(),
    log: log.child({ component: "lifecycle" }),
    onTokenRejected: (reason) => {
      bootstrap.invalidate(reason);
      tokenRejected.resolve();
    },
  });
  const lifecycle = _counted(
    createDurableLifecycle({
      store: wishes,
      worker,
      log,
      notReadyReason: () =>
        bootstrap.ready() === null ? `bootstrap ${bootstrap.status().phase}` : null,
    }),
    metrics,
  );
  metrics.onScrape(async () => {
    const pending = await worker.pending();
    metrics.set("matrixrmapi_pending_wishes", pending.count);
    metrics.set("matrixrmapi_pending_oldest_age_seconds", pending.oldestAgeSeconds ?? 0);
    const phase = bootstrap.status().phase;
    metrics.set("matrixrmapi_bootstrap_ready", phase === "ready" ? 1 : 0);
    for (const p of BOOTSTRAP_PHASES) {
      metrics.set("matrixrmapi_bootstrap_phase", p === phase ? 1 : 0, { phase: p });
    }
    const cert = certificate.status();
    for (const p of CERTIFICATE_PHASES) {
      metrics.set("matrixrmapi_certificate_phase", p === cert.phase ? 1 : 0, { phase: p });
    }
    metrics.set("matrixrmapi_certificate_failures", cert.attempt);
    const oidcPhase = oidc.status().phase;
    for (const p of OIDC_PHASES) {
      metrics.set("matrixrmapi_oidc_client_phase", p === oidcPhase ? 1 : 0, { phase: p });
    }
    if (cert.certificate !== null) {
      const days = (cert.certificate.notAfter.getTime() - Date.now()) / 86_400_000;
      metrics.set("matrixrmapi_certificate_expiry_days", days);
    }
  });
  const reconciler = _reconciler(config, {
    certificate,
    caPems,
    wishes,
    lifecycle,
    levels,
    synapse,
    ready: () => bootstrap.ready(),
    metrics,
    log: log.child({ component: "reconcile" }),
  });
  try {
    const app = createApp({
      config,
      lifecycle,
      health: () => {
        const h = summariseHealth(
          bootstrap.status(),
          startedAt,
          new Date(),
          config.unhealthyAfterMs,
        );
        return {
          healthy: h.healthy,
          extra: `${h.extra}; certificate ${certificate.status().phase}; ` +
            `oidc client ${oidc.status().phase}`,
        };
      },
      status: async () => {
        const pending = await worker.pending();
        return {
          bootstrap: bootstrapStatusJson(bootstrap.status()),
          certificate: certificateStatusJson(certificate.status(), new Date()),
          oidc: oidcStatusJson(oidc.status(), config.keycloak.redirectUri),
          lifecycle: {
            pending: pending.count,
            oldest_pending_age_seconds: pending.oldestAgeSeconds,
            users: [...pending.users],
          },
        };
      },
      metrics: () => metrics.render(),
      reconcile: async (dryRun) => {
        if (reconciler === null || bootstrap.ready() === null) return null;
        return _reportJson(await reconciler.run({ dryRun: dryRun || config.reconcile.dryRun }));
      },
      log,
    });
    const fetch = app.fetch.bind(app);
    const stopBootstrap = new AbortController();
    // The product certificate is enrolled and renewed in the background, like the bootstrap.
    const certifying = certificate.run(stopBootstrap.signal);
    const registering = oidc.run(stopBootstrap.signal);
    closers.unshift(async () => {
      stopBootstrap.abort();
      await certifying;
      await registering;
    });
    const managed = config.mtls.serverCertPath === config.clientCertPath &&
      config.mtls.serverKeyPath === config.clientKeyPath;
    if (!config.mtls.enabled) {
      log.warn("mTLS listener disabled (MTLS_ENABLED=false)");
    } else if (!managed) {
      const mtls = await _startMtls(config, fetch, log, null);
      closers.unshift(mtls.close);
    } else {
      // The listener presents the product certificate: it starts once there is one and
      // takes every renewed pair without a restart.
      const starting = _startMtlsWhenCertified(
        config,
        fetch,
        log,
        certificate,
        stopBootstrap.signal,
      )
        .catch((err) => {
          log.error("the mTLS listener could not start; stopping", { error: err });
          exitCode = 1;
          stopped.resolve();
          return null;
        });
      closers.unshift(async () => {
        stopBootstrap.abort();
        await (await starting)?.close();
      });
    }
    // The plain listener (and with it the healthcheck) comes up last: once it answers, both do.
    const plain = await startPlainListener({
      fetch,
      hostname: config.bindHost,
      port: config.http.port,
      log,
      limits: config.limits,
    });
    closers.unshift(() => plain.close());
    // The bootstrap runs in the background: the API answers from the first moment.
    // Bootstrap, and bootstrap again whenever Synapse rejects the bot's token later on.
    const running = (async () => {
      while (!stopBootstrap.signal.aborted) {
        await bootstrap.run(stopBootstrap.signal);
        worker.wake();
        await Promise.race([tokenRejected.promise, _aborted(stopBootstrap.signal)]);
        tokenRejected = Promise.withResolvers<void>();
      }
    })();
    const working = worker.run(stopBootstrap.signal);
    const reconciling = reconciler === null || config.reconcile.intervalMs === 0
      ? Promise.resolve()
      : _every(config.reconcile.intervalMs, stopBootstrap.signal, async () => {
        if (bootstrap.ready() !== null) {
          await reconciler.run({ dryRun: config.reconcile.dryRun });
        }
      }, (err) => {
        // A pass that throws (not one that reports a failure) is still a failed run.
        metrics.inc("matrixrmapi_reconcile_runs_total", { result: "failed" });
        log.error("periodic reconciliation failed", { component: "reconcile", error: err });
      });
    closers.unshift(async () => {
      stopBootstrap.abort();
      await running;
      await working;
      await reconciling;
    });
  } catch (err) {
    log.error("start-up failed", { error: err });
    await _closeAll(closers, log);
    return 1;
  }

  await stopped.promise;
  log.info("stopping");
  await _closeAll(closers, log);
  return exitCode;
}

async function _startMtlsWhenCertified(
  config: Config,
  fetch: Parameters<typeof startMtlsListener>[0]["fetch"],
  log: Logger,
  certificate: CertificateManager,
  signal: AbortSignal,
): Promise<{ close: () => Promise<void> } | null> {
  const identity = await certificate.whenReady(signal);
  if (identity === null) return null;
  return await _startMtls(config, fetch, log, { certificate, pair: identity });
}

async function _startMtls(
  config: Config,
  fetch: Parameters<typeof startMtlsListener>[0]["fetch"],
  log: Logger,
  managed: { certificate: CertificateManager; pair: { certPem: string; keyPem: string } } | null,
): Promise<{ close: () => Promise<void> }> {
  const caPems = await loadCaCertificates(config.mtls.caPath, config.mtls.caGlob);
  const crl = await createCrlGuard({ path: config.mtls.crlPath, caPems, log });
  const listener = await startMtlsListener({
    fetch,
    hostname: config.bindHost,
    port: config.mtls.port,
    serverCertPem: managed?.pair.certPem ?? await Deno.readTextFile(config.mtls.serverCertPath),
    serverKeyPem: managed?.pair.keyPem ?? await Deno.readTextFile(config.mtls.serverKeyPath),
    caPems,
    crl,
    log,
    limits: config.limits,
  });
  const unsubscribe = managed?.certificate.onChange((pair) =>
    listener.setCertificate(pair.certPem, pair.keyPem)
  );
  return {
    close: async () => {
      unsubscribe?.();
      await listener.close();
      await crl.close();
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

function _reconciler(
  config: Config,
  deps: {
    certificate: CertificateManager;
    caPems: () => Promise<string[]>;
    wishes: WishStore;
    lifecycle: Lifecycle;
    levels: PowerLevelWriter;
    synapse: SynapseHttp;
    ready: () => Ready | null;
    metrics: Registry;
    log: Logger;
  },
): Reconciler | null {
  const base = config.reconcile.rmBaseUri;
  if (base === null) {
    deps.log.warn("reconciliation off: the manifest has no rasenmaeher.mtls.base_uri");
    return null;
  }
  return createReconciler({
    fetchPeople: async () => {
      // The current pair, renewed or not: no restart needed after a renewal.
      const pair = deps.certificate.current();
      if (pair === null) {
        return {
          ok: false as const,
          error: `no product certificate yet (${deps.certificate.status().phase})`,
        };
      }
      return await fetchPeople({
        baseUri: base,
        certPem: pair.certPem,
        keyPem: pair.keyPem,
        caPems: await deps.caPems(),
      }).catch((err) => ({ ok: false as const, error: `cannot call RM: ${err}` }));
    },
    wishes: deps.wishes,
    lifecycle: deps.lifecycle,
    serverName: config.serverName,
    botUsername: config.synapse.botUsername,
    drift: (dryRun) => {
      const ready = deps.ready();
      if (ready === null) return Promise.resolve(0);
      return correctDrift({
        http: deps.synapse,
        token: ready.token,
        rooms: ready.rooms,
        botUserId: ready.botUserId,
        deployment: config.manifest.deployment,
        serverName: config.serverName,
        levels: deps.levels,
        wishes: deps.wishes,
        log: deps.log,
      }, dryRun);
    },
    log: deps.log,
    metrics: deps.metrics,
  });
}

function _reportJson(r: ReconcileReport): ReconcileResponse {
  return {
    ok: r.ok,
    dry_run: r.dryRun,
    people: r.people,
    changes: r.changes.map((c) => ({ user_id: c.userId, callsign: c.callsign, action: c.action })),
    drift_corrections: r.driftCorrections,
    error: r.error,
  };
}

/** Runs `fn` every `ms` until `signal` aborts (the first run after one interval). */
async function _every(
  ms: number,
  signal: AbortSignal,
  fn: () => Promise<void>,
  onError: (err: unknown) => void,
): Promise<void> {
  while (!signal.aborted) {
    await sleep(ms, signal);
    if (!signal.aborted) await fn().catch(onError);
  }
}

function _aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

async function _closeAll(closers: Array<() => Promise<void> | void>, log: Logger): Promise<void> {
  for (const close of closers) {
    try {
      await close();
    } catch (err) {
      log.warn("error while closing", { error: err });
    }
  }
}

function _print(text: string, stream: "stdout" | "stderr" = "stdout"): void {
  const out = stream === "stdout" ? Deno.stdout : Deno.stderr;
  let bytes = new TextEncoder().encode(text);
  // A pipe may take only part of a large write (the OpenAPI document); write until done.
  while (bytes.length > 0) bytes = bytes.subarray(out.writeSync(bytes));
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
