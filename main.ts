/**
 * @module The entry point: arguments, the CLI commands, and for `serve` the process's concerns
 * only — configuration, logger, KV, signals, exit code. The service itself is `createService`.
 * Nothing imports this file.
 */
import { parseArgs, USAGE } from "./src/cli/args.ts";
import { runHealthcheck } from "./src/cli/healthcheck.ts";
import { runReconcile, runStatus } from "./src/cli/remote.ts";
import { runInterop } from "./src/cli/interop.ts";
import { openApiJson } from "./src/cli/openapi.ts";
import { loadConfigFromProcess, loadVolumePathsFromProcess } from "./src/config/config.ts";
import { checkVolumes, prepareVolumes } from "./src/service/volumes.ts";
import { diagnose, exitCodeOf, formatFindings } from "./src/cli/doctor.ts";
import { createLogger } from "./src/log/logger.ts";
import { createService } from "./src/service/service.ts";
import { dirname } from "./src/util/path.ts";
import { SERVICE_VERSION, versionLine } from "./src/version.ts";

const EXIT_USAGE = 64;
const EXIT_CONFIG = 2;

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseArgs(argv);
  if (!parsed.ok) return _print(`${parsed.error}\n\n${USAGE}`, EXIT_USAGE);
  const command = parsed.command;
  switch (command.name) {
    case "help":
      return _print(USAGE, 0);
    case "version":
      return _print(versionLine(Deno.version.deno) + "\n", 0);
    case "openapi":
      return _print(await openApiJson(), 0);
    case "healthcheck":
    case "status":
    case "reconcile":
    case "interop": {
      const run = {
        healthcheck: runHealthcheck,
        status: runStatus,
        reconcile: runReconcile,
        interop: runInterop,
      };
      const result = await run[command.name](command as never);
      return _print(result.message + "\n", result.code);
    }
    case "doctor":
      return await doctor();
    case "prepare-volumes":
      return await prepare(command.uid, command.gid);
    case "serve":
      return await serve();
  }
}

/** `doctor`: every check, ok or what to change; the exit code is the worst finding's. */
async function doctor(): Promise<number> {
  const loaded = await loadConfigFromProcess();
  if (!loaded.ok) {
    const problems = loaded.problems.map((p) => `FAIL configuration: ${p}\n`).join("");
    return _print(problems, EXIT_CONFIG);
  }
  const findings = await diagnose(loaded.config);
  const warnings = loaded.warnings.map((w) => `WARN configuration: ${w}\n`).join("");
  const code = loaded.warnings.length > 0
    ? Math.max(1, exitCodeOf(findings))
    : exitCodeOf(findings);
  return _print(warnings + formatFindings(findings) + "\n", code === 0 ? 0 : code);
}

/** `prepare-volumes`: adopt the volumes (as root, once), then exit. */
async function prepare(uid: number, gid: number): Promise<number> {
  const loaded = loadVolumePathsFromProcess();
  if (!loaded.ok) {
    const problems = loaded.problems.map((p) => `  - ${p}\n`).join("");
    return _print(`matrixrmapi: invalid configuration:\n${problems}`, EXIT_CONFIG);
  }
  try {
    const report = await prepareVolumes(loaded.paths, { uid, gid });
    const lines = [
      ...report.created.map((dir) => `created ${dir}`),
      `${report.chowned} entries now owned by ${uid}:${gid}; no mode changed`,
      ...report.examples.map((e) => `  ${e}`),
    ];
    return _print(lines.join("\n") + "\n", 0);
  } catch (err) {
    return _print(`matrixrmapi prepare-volumes: ${(err as Error).message}\n`, 1);
  }
}

async function serve(): Promise<number> {
  const loaded = await loadConfigFromProcess();
  if (!loaded.ok) {
    const problems = loaded.problems.map((p) => `  - ${p}\n`).join("");
    return _print(`matrixrmapi: invalid configuration:\n${problems}`, EXIT_CONFIG);
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
  // Signals first, so a stop request during start-up still shuts down cleanly.
  const signalled = Promise.withResolvers<null>();
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => signalled.resolve(null));
  }
  // A volume another image wrote (root-owned, 0600) is named file by file, with the fix.
  const findings = await checkVolumes({
    dataPath: config.dataPath,
    kvPath: config.kvPath,
    registrationPath: config.keycloak.registrationPath,
    legacyTokenFile: config.synapse.legacyTokenFile,
    clientCertPath: config.clientCertPath,
    clientKeyPath: config.clientKeyPath,
  }, { selfManagedPair: config.clientCertManagedBy === "self" });
  for (const f of findings) log.error(f.message, { path: f.path, need: f.need, mode: f.mode });
  let kv: Deno.Kv;
  try {
    await Deno.mkdir(dirname(config.kvPath), { recursive: true });
    kv = await Deno.openKv(config.kvPath);
  } catch (err) {
    log.error("cannot open the KV database", { path: config.kvPath, error: err });
    return 1;
  }
  using _kv = kv;
  const service = createService({ config, kv, log });
  let code = 0;
  try {
    await service.start();
    if (await Promise.race([signalled.promise, service.fatal]) !== null) code = 1;
    log.info("stopping");
  } catch (err) {
    log.error("start-up failed", { error: err });
    code = 1;
  }
  await service.stop();
  return code;
}

/** Writes `text` whole (a pipe may take a large write in parts) and returns `code`. */
function _print(text: string, code: number): number {
  const out = code === 0 ? Deno.stdout : Deno.stderr;
  let bytes = new TextEncoder().encode(text);
  while (bytes.length > 0) bytes = bytes.subarray(out.writeSync(bytes));
  return code;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
