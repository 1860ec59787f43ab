/**
 * @module A real Synapse for tests and development: installed from PyPI into a cached virtualenv
 * under `.local/`, configured for loopback with SQLite, started on a free port, stopped exactly.
 */

const ROOT = new URL("../../", import.meta.url).pathname;
const REQUIREMENTS = `${ROOT}tools/synapse/requirements.txt`;

/** Python, venv or pip is missing: tests skip outside CI and fail in CI. */
export class SynapseUnavailableError extends Error {
  override name = "SynapseUnavailableError";
}

export interface Homeserver {
  readonly url: string;
  readonly serverName: string;
  readonly registrationSecret: string;
  readonly port: number;
  readonly pid: number;
  readonly dir: string;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** @default "matrixrmapi.test" */
  readonly serverName?: string;
  /** Listen here; a free port when absent. */
  readonly port?: number;
  /** The shared registration secret; random when absent. */
  readonly registrationSecret?: string;
  /** Directory for config and data (kept across runs); a fresh one under `.local/` when absent. */
  readonly dir?: string;
  /** How long to wait for `/health`. @default 120_000 */
  readonly timeoutMs?: number;
}

async function _run(cmd: string, args: string[], what: string): Promise<string> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(cmd, { args, stdin: "null" }).output();
  } catch (err) {
    throw new SynapseUnavailableError(
      `Cannot ${what}: ${cmd} is not available (${(err as Error).message})`,
    );
  }
  const text = new TextDecoder();
  if (!out.success) {
    throw new SynapseUnavailableError(
      `Cannot ${what}: ${cmd} ${args.join(" ")} failed:\n${text.decode(out.stderr).slice(-2000)}`,
    );
  }
  return text.decode(out.stdout);
}

/** Creates `.local/synapse-venv` and installs the pinned Synapse when missing or changed. */
export async function ensureSynapseInstalled(): Promise<string> {
  const venv = `${ROOT}.local/synapse-venv`;
  const python = `${venv}/bin/python`;
  const marker = `${venv}/.requirements-installed`;
  const wanted = await Deno.readTextFile(REQUIREMENTS);
  const installed = await Deno.readTextFile(marker).catch(() => null);
  if (installed === wanted) return python;
  const system = Deno.env.get("PYTHON") ?? "python3";
  await _run(system, ["-m", "venv", venv], "create the Synapse virtualenv");
  // requirements.txt pins Synapse and points at constraints.txt, which pins everything it pulls in.
  await _run(python, [
    "-m",
    "pip",
    "install",
    "--quiet",
    "--disable-pip-version-check",
    "-r",
    REQUIREMENTS,
  ], "install Synapse from PyPI");
  await Deno.writeTextFile(marker, wanted);
  return python;
}

function _freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

function _hex(bytes: number): string {
  return Array.from(
    crypto.getRandomValues(new Uint8Array(bytes)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
}

// Test users act far faster than people: every limiter keyed on users is opened wide.
const WIDE = { per_second: 1000, burst_count: 1000 };

function _config(dir: string, serverName: string, port: number, secret: string): unknown {
  return {
    server_name: serverName,
    pid_file: `${dir}/homeserver.pid`,
    public_baseurl: `http://127.0.0.1:${port}/`,
    listeners: [{
      port,
      bind_addresses: ["127.0.0.1"],
      type: "http",
      tls: false,
      x_forwarded: false,
      resources: [{ names: ["client"], compress: false }],
    }],
    database: { name: "sqlite3", args: { database: `${dir}/homeserver.db` } },
    media_store_path: `${dir}/media`,
    signing_key_path: `${dir}/signing.key`,
    log_config: `${dir}/log.config`,
    registration_shared_secret: secret,
    report_stats: false,
    enable_registration: false,
    trusted_key_servers: [],
    suppress_key_server_warning: true,
    presence: { enabled: false },
    bcrypt_rounds: 4,
    default_room_version: "11",
    federation_domain_whitelist: [],
    rc_message: WIDE,
    rc_registration: WIDE,
    rc_login: { address: WIDE, account: WIDE, failed_attempts: WIDE },
    rc_joins: { local: WIDE, remote: WIDE },
    rc_joins_per_room: WIDE,
    rc_invites: { per_room: WIDE, per_user: WIDE, per_issuer: WIDE },
    rc_admin_redaction: WIDE,
    rc_room_creation: WIDE,
  };
}

/** Starts a fresh homeserver in its own directory and waits until `/health` answers. */
export async function startHomeserver(options: StartOptions = {}): Promise<Homeserver> {
  const python = await ensureSynapseInstalled();
  const serverName = options.serverName ?? "matrixrmapi.test";
  const port = options.port ?? _freePort();
  const secret = options.registrationSecret ?? _hex(24);
  const dir = options.dir ?? `${ROOT}.local/synapse-runs/${Date.now()}-${_hex(4)}`;
  await Deno.mkdir(`${dir}/media`, { recursive: true });
  // JSON is YAML, so the configuration needs no YAML writer.
  await Deno.writeTextFile(
    `${dir}/homeserver.yaml`,
    JSON.stringify(_config(dir, serverName, port, secret), null, 2),
  );
  await Deno.writeTextFile(
    `${dir}/log.config`,
    JSON.stringify({
      version: 1,
      formatters: {
        precise: { format: "%(asctime)s %(levelname)s %(name)s %(request)s %(message)s" },
      },
      filters: { context: { "()": "synapse.logging.context.LoggingContextFilter", request: "" } },
      handlers: {
        file: {
          class: "logging.FileHandler",
          filename: `${dir}/homeserver.log`,
          formatter: "precise",
          filters: ["context"],
        },
      },
      root: { level: "INFO", handlers: ["file"] },
      disable_existing_loggers: false,
    }),
  );
  const stdio = await Deno.open(`${dir}/stdio.log`, { write: true, create: true });
  const child = new Deno.Command(python, {
    args: ["-m", "synapse.app.homeserver", "-c", `${dir}/homeserver.yaml`],
    cwd: dir,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Drain both pipes into one file so a chatty Synapse can never block on a full pipe.
  const drained = Promise.all([
    child.stdout.pipeTo(stdio.writable, { preventClose: true }),
    child.stderr.pipeTo(new WritableStream({ write: (chunk) => void stdio.writeSync(chunk) })),
  ]).finally(() => stdio.close());
  const url = `http://127.0.0.1:${port}`;
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const stop = async () => {
    if (!exited) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => {
        if (!exited) child.kill("SIGKILL");
      }, 15_000);
      await status;
      clearTimeout(timer);
    }
    await drained.catch(() => {});
  };
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  while (Date.now() < deadline && !exited) {
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
      const body = await res.text();
      if (res.status === 200 && body === "OK") {
        return { url, serverName, registrationSecret: secret, port, pid: child.pid, dir, stop };
      }
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 250));
  }
  await stop();
  const log = await Deno.readTextFile(`${dir}/homeserver.log`).catch(() => "");
  const stdioText = await Deno.readTextFile(`${dir}/stdio.log`).catch(() => "");
  throw new Error(`Synapse did not become healthy at ${url}:\n${(stdioText + log).slice(-3000)}`);
}
