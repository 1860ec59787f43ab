/** @module A real Synapse for tests and development: pinned, cached in a venv, run on loopback. */
import { runUntilStopped, trapStopSignals } from "../until_stopped.ts";

const _path = (rel: string) => decodeURIComponent(new URL(rel, import.meta.url).pathname);
const REPO_ROOT = _path("../..");

/** Python, venv, pip or the PyPI install is unavailable: tests skip outside CI and fail in CI. */
export class SynapseUnavailableError extends Error {
  override name = "SynapseUnavailableError";
}

export interface InstallOptions {
  /** Project root; state lives in `<root>/.local/`. @default this repository */
  readonly root?: string;
  /** The interpreter that creates the venv. @default $PYTHON, else "python3" */
  readonly python?: string;
  /** Progress messages (an install takes ~20 s). @default silent */
  readonly log?: (message: string) => void;
}

export interface StartOptions extends InstallOptions {
  /** @default "matrixrmapi.test" */
  readonly serverName?: string;
  /** Random (32 hex digits) when absent. */
  readonly registrationSecret?: string;
  /** Listen here; a free loopback port when absent. */
  readonly port?: number;
  /** Reuse this directory (the dev stack keeps its database); a fresh run dir when absent. */
  readonly dir?: string;
  /** How long to wait for `/health`. @default 90_000 */
  readonly timeoutMs?: number;
  /**
   * Single sign-on through Keycloak, configured as docker-synapse-server's homeserver.yaml does
   * (`idp_id: keycloak`, scopes `openid profile`, localpart from `preferred_username`), with the
   * client from a `registration.json`. `skip_verification` only because the issuer is plain HTTP.
   */
  readonly oidc?: OidcProvider;
  /**
   * Synapse's `public_baseurl` (the URL people and identity providers see), when it is not the
   * loopback address it listens on — the ecosystem's `https://synapse.<domain>/`, port-less at 443.
   * @default `http://127.0.0.1:<port>/`
   */
  readonly publicBaseurl?: string;
}

export interface OidcProvider {
  /** `http://127.0.0.1:<port>/realms/<realm>` */
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** URL prefixes Synapse may send login tokens to without a confirmation page. */
  readonly clientWhitelist?: readonly string[];
}

export interface Homeserver {
  readonly url: string;
  readonly serverName: string;
  readonly registrationSecret: string;
  /** A 0600 file holding the secret, for people and scripts. */
  readonly secretFile: string;
  readonly port: number;
  readonly pid: number;
  /** Config, database, media and logs (`homeserver.log`, `stdout.log`, `stderr.log`). */
  readonly dir: string;
  /** Settles when the process has exited. */
  readonly exited: Promise<Deno.CommandStatus>;
  /** SIGTERM to this process only, SIGKILL after 10 s; keeps `dir`. Safe to call twice. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

function _root(root: string | undefined): string {
  const r = (root ?? REPO_ROOT).replace(/\/+$/, "");
  return r.startsWith("/") ? r : `${Deno.cwd()}/${r}`;
}

async function _exec(cmd: string, args: string[]): Promise<{ ok: boolean; out: string }> {
  // Promise.try: spawning a missing program throws synchronously.
  const o = await Promise.try(() => new Deno.Command(cmd, { args, stdin: "null" }).output())
    .catch((cause) => {
      throw new SynapseUnavailableError(`Cannot run "${cmd}": ${cause}`, { cause });
    });
  const dec = new TextDecoder();
  return { ok: o.success, out: (dec.decode(o.stdout) + dec.decode(o.stderr)).trim() };
}

/**
 * Makes `<root>/.local/synapse-venv` hold exactly the pinned Synapse and returns its python.
 * Reinstalls (a fresh venv) only when the pins or the base interpreter changed; a file lock
 * serialises concurrent callers, in this process or others.
 */
export async function ensureSynapseInstalled(options: InstallOptions = {}): Promise<string> {
  const root = _root(options.root);
  const base = options.python ?? Deno.env.get("PYTHON") ?? "python3";
  const venv = `${root}/.local/synapse-venv`;
  const python = `${venv}/bin/python`;
  const probe = await _exec(base, ["-c", "import sys;print(*sys.version_info[:2],sys.executable)"]);
  const [major = 0, minor = 0] = probe.out.split(" ").map(Number);
  // The constraints pin wheels that no longer exist for 3.10 (see constraints.txt).
  if (!probe.ok || major * 100 + minor < 311) {
    throw new SynapseUnavailableError(
      `Cannot install Synapse: "${base}" must be Python >= 3.11, got: ${probe.out}`,
    );
  }
  const files = ["requirements.txt", "constraints.txt"].map((f) => Deno.readTextFile(_path(f)));
  const pins = [probe.out, ...await Promise.all(files)].join("\0");
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(pins));
  const want = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  const marker = `${venv}/.matrixrmapi-install.sha256`;
  await Deno.mkdir(`${root}/.local`, { recursive: true });
  using lock = await Deno.open(`${root}/.local/synapse-venv.lock`, { create: true, write: true });
  await lock.lock(true);
  const have = await Deno.readTextFile(marker).catch(() => "");
  if (have === want && await Deno.stat(python).then(() => true, () => false)) return python;
  const log = options.log ?? (() => {});
  log(`Installing Synapse into ${venv} (pins changed or first run)…`);
  const pip =
    "-m pip install --quiet --disable-pip-version-check --no-input --only-binary :all: -r";
  const steps: [string, string[], string][] = [
    [base, ["-m", "venv", "--clear", venv], "create a venv (Debian: apt-get install python3-venv)"],
    [python, ["-m", "pip", "--version"], "run pip inside the venv"],
    [python, [...pip.split(" "), _path("requirements.txt")], "install Synapse from PyPI"],
  ];
  for (const [cmd, args, what] of steps) {
    const r = await _exec(cmd, args);
    if (!r.ok) throw new SynapseUnavailableError(`Cannot ${what}:\n${r.out.slice(-3000)}`);
  }
  await Deno.writeTextFile(marker, want);
  log("Synapse installed.");
  return python;
}

// Test users act far faster than people: open every per-user/per-IP limiter wide. Synapse reads
// these keys without validating them, so tests/support/harness_synapse_test.ts checks that each one
// is actually used.
const WIDE = { per_second: 10_000, burst_count: 10_000 };
const FLAT_LIMITS =
  "message registration registration_token_validity joins_per_room admin_redaction " +
  "third_party_invite 3pid_validation room_creation profile user_directory media_create reports " +
  "delayed_event_mgmt";
const RATE_LIMITS = {
  ...Object.fromEntries(FLAT_LIMITS.split(" ").map((k) => [`rc_${k}`, WIDE])),
  rc_login: { address: WIDE, account: WIDE, failed_attempts: WIDE },
  rc_joins: { local: WIDE, remote: WIDE },
  rc_invites: { per_room: WIDE, per_user: WIDE, per_issuer: WIDE },
};

const _oidc = (o: OidcProvider) => ({
  oidc_providers: [{
    idp_id: "keycloak",
    idp_name: "Keycloak",
    issuer: o.issuer,
    client_id: o.clientId,
    client_secret: o.clientSecret,
    scopes: ["openid", "profile"],
    skip_verification: true,
    user_mapping_provider: {
      config: {
        localpart_template: "{{ user.preferred_username }}",
        display_name_template: "{{ user.name }}",
      },
    },
  }],
  sso: { client_whitelist: [...(o.clientWhitelist ?? [])] },
});

const _config = (
  dir: string,
  serverName: string,
  port: number,
  secret: string,
  oidc: OidcProvider | undefined,
) => ({
  server_name: serverName,
  pid_file: `${dir}/homeserver.pid`,
  public_baseurl: `http://127.0.0.1:${port}/`,
  listeners: [
    // x_forwarded, as behind the deployment's nginx: a request for the public URL (X-Forwarded-Proto
    // https, its Host) is canonical; loopback callers are trusted to say so.
    {
      port,
      bind_addresses: ["127.0.0.1"],
      type: "http",
      x_forwarded: true,
      resources: [{ names: ["client"] }],
    },
  ],
  database: { name: "sqlite3", args: { database: `${dir}/homeserver.db` } },
  media_store_path: `${dir}/media`,
  signing_key_path: `${dir}/signing.key`,
  log_config: `${dir}/log.config.yaml`,
  registration_shared_secret: secret,
  report_stats: false,
  enable_registration: false,
  trusted_key_servers: [],
  federation_domain_whitelist: [],
  presence: { enabled: false },
  bcrypt_rounds: 4,
  default_room_version: "11",
  ...RATE_LIMITS,
  ...(oidc === undefined ? {} : _oidc(oidc)),
});

// Synapse's own log goes to a file in the run dir, never to our stdout.
const _logConfig = (dir: string) => ({
  version: 1,
  formatters: { precise: { format: "%(asctime)s %(levelname)s %(name)s %(request)s %(message)s" } },
  handlers: {
    file: { class: "logging.FileHandler", filename: `${dir}/homeserver.log`, formatter: "precise" },
  },
  root: { level: "INFO", handlers: ["file"] },
  disable_existing_loggers: false,
});

// Port 0 picks a free port; a given port is checked first, as an old Synapse there would answer.
function _port(port: number): number {
  try {
    using l = Deno.listen({ hostname: "127.0.0.1", port });
    return l.addr.port;
  } catch (cause) {
    throw new Error(`Cannot start Synapse on 127.0.0.1:${port}: ${cause}`, { cause });
  }
}

async function _tail(dir: string): Promise<string> {
  const parts = await Promise.all(["stderr.log", "homeserver.log"].map(async (f) => {
    const t = await Deno.readTextFile(`${dir}/${f}`).catch(() => "");
    return t.trim() === "" ? "" : `\n--- ${dir}/${f} (tail) ---\n${t.slice(-2500)}`;
  }));
  return parts.join("");
}

async function _healthy(url: string): Promise<boolean> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 2000);
  try {
    const res = await fetch(`${url}/health`, { signal: ac.signal });
    return res.status === 200 && (await res.text()) === "OK";
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** Starts Synapse (installing it first if needed) and resolves once `/health` answers "OK". */
export async function startHomeserver(options: StartOptions = {}): Promise<Homeserver> {
  const root = _root(options.root);
  const python = await ensureSynapseInstalled(options);
  const serverName = options.serverName ?? "matrixrmapi.test";
  const secret = options.registrationSecret ?? crypto.randomUUID().replaceAll("-", "");
  if (secret === "") throw new Error("Cannot start Synapse: the registration secret is empty");
  let dir = options.dir;
  if (dir === undefined) {
    await Deno.mkdir(`${root}/.local/synapse-runs`, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, "-");
    dir = await Deno.makeTempDir({ dir: `${root}/.local/synapse-runs`, prefix: `${stamp}-` });
  }
  await Deno.mkdir(`${dir}/media`, { recursive: true });
  const secretFile = `${dir}/registration_secret`;
  await Deno.writeTextFile(secretFile, secret, { mode: 0o600 });
  // JSON is YAML, so no YAML writer is needed.
  await Deno.writeTextFile(`${dir}/log.config.yaml`, JSON.stringify(_logConfig(dir)));
  const config = `${dir}/homeserver.yaml`;
  const timeoutMs = options.timeoutMs ?? 90_000;
  const fixed = { serverName, registrationSecret: secret, secretFile, dir };
  // A port picked here can be taken before Synapse binds it: pick again, at most three times.
  for (let attempt = 1;; attempt++) {
    const port = _port(options.port ?? 0);
    const url = `http://127.0.0.1:${port}`;
    await Deno.writeTextFile(
      config,
      JSON.stringify({
        ..._config(dir, serverName, port, secret, options.oidc),
        ...(options.publicBaseurl === undefined ? {} : { public_baseurl: options.publicBaseurl }),
      }),
    );
    const child = new Deno.Command(python, {
      args: ["-m", "synapse.app.homeserver", "-c", config],
      cwd: dir,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    // Drained into files so a chatty Synapse never blocks on a full pipe; pipeTo closes them.
    const drained = Promise.all([
      Deno.create(`${dir}/stdout.log`).then((f) => child.stdout.pipeTo(f.writable)),
      Deno.create(`${dir}/stderr.log`).then((f) => child.stderr.pipeTo(f.writable)),
    ]).then(() => {}, () => {});
    let done = false;
    const exited = child.status.finally(() => done = true);
    // Deno throws when the child has already been reaped; that is the goal, so it is fine.
    const kill = (signal: Deno.Signal) =>
      void Promise.try(() => child.kill(signal)).catch(() => {});
    let stopping: Promise<void> | undefined;
    const stop = () =>
      stopping ??= (async () => {
        if (!done) kill("SIGTERM");
        const timer = setTimeout(() => kill("SIGKILL"), 10_000);
        await exited.finally(() => clearTimeout(timer));
        await drained;
      })();
    const deadline = Date.now() + timeoutMs;
    while (!done && Date.now() < deadline) {
      if (await _healthy(url) && !done) {
        options.log?.(`Synapse ${serverName} is up at ${url} (pid ${child.pid}, ${dir})`);
        return { ...fixed, url, port, pid: child.pid, exited, stop, [Symbol.asyncDispose]: stop };
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    const why = done
      ? `exited (code ${(await exited).code}) before /health answered`
      : `did not answer /health within ${timeoutMs / 1000} s`;
    await stop();
    const tail = await _tail(dir);
    if (!/Address already in use/.test(tail) || options.port !== undefined || attempt >= 3) {
      throw new Error(`Synapse at ${url} ${why}${tail}`);
    }
  }
}

// deno-lint-ignore no-console
const _say = (line: string) => console.error(line);

async function _cli(args: string[]): Promise<number> {
  const [cmd, ...rest] = args;
  if (cmd === "install") {
    const t0 = performance.now();
    const python = await ensureSynapseInstalled({ log: _say });
    _say(`Synapse ready in ${python} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    return 0;
  }
  if (cmd !== "run") {
    _say("usage: homeserver.ts install | run [--server-name NAME] [--port N]");
    return 64;
  }
  const flags = Object.fromEntries(
    rest.flatMap((a, i) => a.startsWith("--") ? [[a, rest[i + 1]]] : []),
  );
  const port = flags["--port"] === undefined ? {} : { port: Number(flags["--port"]) };
  const name = flags["--server-name"] === undefined ? {} : { serverName: flags["--server-name"] };
  const trap = trapStopSignals();
  const hs = await startHomeserver({ log: _say, ...port, ...name });
  _say(`SYNAPSE_URL=${hs.url}\nSYNAPSE_SERVER_NAME=${hs.serverName}`);
  _say(`SYNAPSE_REGISTRATION_SECRET_FILE=${hs.secretFile}\nlog: ${hs.dir}/homeserver.log`);
  return await runUntilStopped(hs, trap, "Synapse", _say);
}

if (import.meta.main) {
  try {
    Deno.exit(await _cli(Deno.args));
  } catch (err) {
    _say(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
    Deno.exit(err instanceof SynapseUnavailableError ? 69 : 1);
  }
}
