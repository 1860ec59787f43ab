/**
 * @module The entry point and the only wiring: config → logger → KV → app → listeners, and the
 * CLI dispatch. Nothing imports this file.
 */
import { parseArgs, USAGE } from "./src/cli/args.ts";
import { runHealthcheck } from "./src/cli/healthcheck.ts";
import {
  type Config,
  loadConfigFromProcess,
  parseConfig,
  readTextOrNull,
} from "./src/config/config.ts";
import { createApp } from "./src/http/app.ts";
import { openApiDocument } from "./src/http/routes/docs.ts";
import { createUnavailableLifecycle } from "./src/lifecycle/lifecycle.ts";
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
import { createSynapseHttp } from "./src/synapse/http.ts";
import { createBootstrap } from "./src/bootstrap/bootstrap.ts";
import { statusJson, summariseHealth } from "./src/bootstrap/health.ts";
import type { StatusResponse } from "./src/http/routes/status.ts";

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
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => stopped.resolve());
  }

  await Deno.mkdir(_dirname(config.kvPath), { recursive: true });
  const kv = await Deno.openKv(config.kvPath);
  const closers: Array<() => Promise<void> | void> = [() => kv.close()];
  const store = createStore(kv);
  const synapse = createSynapseHttp({ baseUrl: config.synapse.url });
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
  const worker = createWorker({
    store: wishes,
    http: synapse,
    ready: () => bootstrap.ready(),
    log: log.child({ component: "lifecycle" }),
    onTokenRejected: (reason) => {
      bootstrap.invalidate(reason);
      tokenRejected.resolve();
    },
  });
  const lifecycle = createDurableLifecycle({
    store: wishes,
    worker,
    log,
    notReadyReason: () =>
      bootstrap.ready() === null ? `bootstrap ${bootstrap.status().phase}` : null,
  });
  try {
    const app = createApp({
      config,
      lifecycle,
      health: () => summariseHealth(bootstrap.status(), startedAt),
      status: async () => {
        const pending = await worker.pending();
        return {
          bootstrap: statusJson(bootstrap.status()) as StatusResponse["bootstrap"],
          lifecycle: {
            pending: pending.count,
            oldest_pending_age_seconds: pending.oldestAgeSeconds,
            users: [...pending.users],
          },
        };
      },
      log,
    });
    const fetch = app.fetch.bind(app);
    if (config.mtls.enabled) {
      const mtls = await _startMtls(config, fetch, log);
      closers.unshift(mtls.close);
    } else {
      log.warn("mTLS listener disabled (MTLS_ENABLED=false)");
    }
    // The plain listener (and with it the healthcheck) comes up last: once it answers, both do.
    const plain = await startPlainListener({
      fetch,
      hostname: config.bindHost,
      port: config.http.port,
      log,
    });
    closers.unshift(() => plain.close());
    // The bootstrap runs in the background: the API answers from the first moment.
    const stopBootstrap = new AbortController();
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
    closers.unshift(async () => {
      stopBootstrap.abort();
      await running;
      await working;
    });
  } catch (err) {
    log.error("start-up failed", { error: err });
    await _closeAll(closers, log);
    return 1;
  }

  await stopped.promise;
  log.info("stopping");
  await _closeAll(closers, log);
  return 0;
}

async function _startMtls(
  config: Config,
  fetch: Parameters<typeof startMtlsListener>[0]["fetch"],
  log: Logger,
): Promise<{ close: () => Promise<void> }> {
  const caPems = await loadCaCertificates(config.mtls.caPath, config.mtls.caGlob);
  const crl = await createCrlGuard({ path: config.mtls.crlPath, caPems, log });
  const listener = await startMtlsListener({
    fetch,
    hostname: config.bindHost,
    port: config.mtls.port,
    serverCertPem: await Deno.readTextFile(config.mtls.serverCertPath),
    serverKeyPem: await Deno.readTextFile(config.mtls.serverKeyPath),
    caPems,
    crl,
    log,
  });
  return {
    close: async () => {
      await listener.close();
      await crl.close();
    },
  };
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

function _dirname(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? (i === 0 ? "/" : ".") : path.slice(0, i);
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
