/**
 * @module A real Keycloak for tests and development: pinned, cached in `.local/keycloak/`, run
 * in dev mode on loopback, each start with its own data, stopped with all its processes.
 */
import { runUntilStopped, trapStopSignals } from "../until_stopped.ts";
import { type KeycloakAdmin, keycloakAdmin } from "./admin.ts";
import {
  cacheDir,
  ensureKeycloakInstalled,
  type Installation,
  type InstallOptions,
  javaMajor,
  KEYCLOAK_VERSION,
  KeycloakUnavailableError,
} from "./install.ts";

export { ensureKeycloakInstalled, KeycloakUnavailableError } from "./install.ts";
export type { Installation, InstallOptions } from "./install.ts";
export { keycloakAdmin } from "./admin.ts";
export type * from "./admin.ts";

export interface StartOptions extends InstallOptions {
  /** Listen here; a free loopback port when absent. */
  readonly port?: number;
  /** How long to wait for realm master's OpenID configuration. @default 120_000 */
  readonly timeoutMs?: number;
  /**
   * Aborting it while Keycloak starts stops it and rejects. Keycloak runs in a session of its
   * own, so a terminal's Ctrl-C never reaches it: callers that trap signals abort through this.
   */
  readonly signal?: AbortSignal;
}

export interface Keycloak extends KeycloakAdmin {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** The bootstrap admin of realm master. */
  readonly adminUser: string;
  readonly adminPassword: string;
  /** This run: its Keycloak home (`home/`, data in `home/data/`), `stdout.log`, `stderr.log`. */
  readonly dir: string;
  /** kc.sh's pid, which is also the process group of kc.sh and its java. */
  readonly pid: number;
  /** Settles when kc.sh has exited. */
  readonly exited: Promise<Deno.CommandStatus>;
  /** SIGTERM to the process group, SIGKILL after 20 s; keeps `dir`. Safe to call twice. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

// kc.sh finds its home by resolving its own path and writes `data/` there; Quarkus writes the
// build (dev mode re-augments) next to the real path of quarkus-run.jar. So a run gets its own
// home: copies of those two and of `lib/quarkus/` (2.5 MB), links to the shared read-only rest.
// Runs never share a database or a build, and the install stays as unpacked.
async function _runHome(install: Installation, dir: string, build: string): Promise<string> {
  const home = `${dir}/home`;
  await Deno.mkdir(`${home}/bin`, { recursive: true });
  await Deno.mkdir(`${home}/lib/quarkus`, { recursive: true });
  await Deno.copyFile(`${install.home}/bin/kc.sh`, `${home}/bin/kc.sh`);
  await Deno.copyFile(`${install.home}/lib/quarkus-run.jar`, `${home}/lib/quarkus-run.jar`);
  for (const part of ["conf", "themes", "providers", "lib/lib", "lib/app"]) {
    await Deno.symlink(`${install.home}/${part}`, `${home}/${part}`);
  }
  await _copyFlat(build, `${home}/lib/quarkus`);
  return home;
}

async function _copyFlat(from: string, to: string): Promise<void> {
  for await (const e of Deno.readDir(from)) {
    await Deno.copyFile(`${from}/${e.name}`, `${to}/${e.name}`);
  }
}

// The distribution is built for `start`; `start-dev` re-augments first (5-10 s). A run that had
// to re-augment leaves its build here for the next runs, which then start at once; should
// Keycloak find it stale, it re-augments again and this copy is replaced.
const _devBuild = (root: string | undefined) => `${cacheDir(root)}/dev-build-${KEYCLOAK_VERSION}`;

async function _saveDevBuild(root: string | undefined, dir: string, since: Date): Promise<void> {
  const built = await Deno.stat(`${dir}/home/lib/quarkus/quarkus-application.dat`);
  if (built.mtime === null || built.mtime <= since) return;
  const tmp = await Deno.makeTempDir({ dir: cacheDir(root), prefix: "dev-build-" });
  await _copyFlat(`${dir}/home/lib/quarkus`, tmp);
  await Deno.remove(_devBuild(root), { recursive: true }).catch(() => {});
  // A concurrent run may have saved one meanwhile: either build is as good.
  await Deno.rename(tmp, _devBuild(root)).catch(() => Deno.remove(tmp, { recursive: true }));
}

// Chunk by chunk, so the file is current while Keycloak runs (pipeTo(file.writable) was seen
// to hold everything back until the process ended).
async function _drain(stream: ReadableStream<Uint8Array>, path: string): Promise<void> {
  using file = await Deno.create(path);
  for await (const chunk of stream) await file.write(chunk);
}

// Port 0 picks a free port; a given port is checked first, as an old Keycloak there would answer.
function _port(port: number): number {
  try {
    using l = Deno.listen({ hostname: "127.0.0.1", port });
    return l.addr.port;
  } catch (cause) {
    throw new Error(`Cannot start Keycloak on 127.0.0.1:${port}: ${cause}`, { cause });
  }
}

/** Live (not zombie) processes in process group `pgid`, read from /proc. */
export async function groupMembers(pgid: number): Promise<number[]> {
  const found: number[] = [];
  for await (const e of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    const stat = await Deno.readTextFile(`/proc/${e.name}/stat`).catch(() => "");
    // "pid (comm) state ppid pgrp …": comm may hold spaces, so split after its ")".
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (state !== undefined && state !== "Z" && Number(pgrp) === pgid) found.push(Number(e.name));
  }
  return found;
}

async function _tail(dir: string): Promise<string> {
  const parts = await Promise.all(["stderr.log", "stdout.log"].map(async (f) => {
    const t = await Deno.readTextFile(`${dir}/${f}`).catch(() => "");
    return t.trim() === "" ? "" : `\n--- ${dir}/${f} (tail) ---\n${t.slice(-3000)}`;
  }));
  return parts.join("");
}

async function _ready(url: string): Promise<boolean> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 2000);
  try {
    const res = await fetch(`${url}/realms/master/.well-known/openid-configuration`, {
      signal: ac.signal,
    });
    await res.body?.cancel();
    return res.status === 200;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

async function _runDir(root: string | undefined): Promise<string> {
  const runs = `${cacheDir(root)}/runs`;
  await Deno.mkdir(runs, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  return await Deno.makeTempDir({ dir: runs, prefix: `${stamp}-` });
}

/** Starts Keycloak (installing it first if needed) once realm master answers. */
export async function startKeycloak(options: StartOptions = {}): Promise<Keycloak> {
  const install = await ensureKeycloakInstalled(options);
  const adminUser = "admin";
  const adminPassword = crypto.randomUUID().replaceAll("-", "");
  const timeoutMs = options.timeoutMs ?? 120_000;
  // Java >= 24 warns about netty's sun.misc.Unsafe and fails thread-local resets without these.
  const javaOpts = "--add-opens=java.base/java.lang=ALL-UNNAMED" +
    (await javaMajor(install.javaHome) >= 24 ? " --sun-misc-unsafe-memory-access=allow" : "");
  // A port picked here can be taken before Keycloak binds it: pick again, at most three times.
  for (let attempt = 1;; attempt++) {
    options.signal?.throwIfAborted();
    const dir = await _runDir(options.root);
    const devBuild = await Deno.stat(_devBuild(options.root)).then(() => true, () => false);
    const build = devBuild ? _devBuild(options.root) : `${install.home}/lib/quarkus`;
    const home = await _runHome(install, dir, build);
    const homeMade = new Date();
    const port = _port(options.port ?? 0);
    const url = `http://127.0.0.1:${port}`;
    const t0 = performance.now();
    // setsid: kc.sh runs java as its child (and execs a second one after re-augmenting), so
    // kc.sh leads a process group of its own and stop() signals the whole group.
    const child = new Deno.Command("setsid", {
      args: [
        `${home}/bin/kc.sh`,
        "start-dev",
        "--http-host=127.0.0.1",
        `--http-port=${port}`,
        // Opened only when health or metrics are on (they are not): a free port all the same.
        `--http-management-port=${_port(0)}`,
      ],
      cwd: dir,
      env: {
        JAVA_HOME: install.javaHome,
        JAVA_OPTS_APPEND: javaOpts,
        KC_BOOTSTRAP_ADMIN_USERNAME: adminUser,
        KC_BOOTSTRAP_ADMIN_PASSWORD: adminPassword,
      },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    // Drained into files so a chatty Keycloak never blocks on a full pipe.
    const drained = Promise.all([
      _drain(child.stdout, `${dir}/stdout.log`),
      _drain(child.stderr, `${dir}/stderr.log`),
    ]).then(() => {}, () => {});
    let done = false;
    const exited = child.status.finally(() => done = true);
    // The group may be gone already; that is the goal, so errors are fine.
    const kill = (signal: Deno.Signal) => {
      try {
        Deno.kill(-child.pid, signal);
      } catch { /* already gone */ }
    };
    let stopping: Promise<void> | undefined;
    const stop = () =>
      stopping ??= (async () => {
        kill("SIGTERM");
        const timer = setTimeout(() => kill("SIGKILL"), 20_000);
        await exited.finally(() => clearTimeout(timer));
        // kc.sh is gone; its java may linger for a moment, or be orphaned if kc.sh was killed.
        for (let i = 0; (await groupMembers(child.pid)).length > 0; i++) {
          if (i === 50) kill("SIGKILL");
          if (i === 100) throw new Error(`Keycloak's process group ${child.pid} survives SIGKILL`);
          await new Promise((r) => setTimeout(r, 100));
        }
        await drained;
      })();
    const deadline = Date.now() + timeoutMs;
    while (!done && Date.now() < deadline && !options.signal?.aborted) {
      if (await _ready(url) && !done) {
        const secs = ((performance.now() - t0) / 1000).toFixed(1);
        options.log?.(`Keycloak is up at ${url} after ${secs} s (pid ${child.pid}, ${dir})`);
        await _saveDevBuild(options.root, dir, homeMade);
        const access = { url, adminUser, adminPassword };
        return {
          ...keycloakAdmin(access),
          ...access,
          port,
          dir,
          pid: child.pid,
          exited,
          stop,
          [Symbol.asyncDispose]: stop,
        };
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    await stop();
    if (options.signal?.aborted) throw new Error(`Keycloak at ${url}: start aborted`);
    const why = done
      ? `exited (code ${(await exited).code}) before realm master answered`
      : `did not answer within ${timeoutMs / 1000} s`;
    const tail = await _tail(dir);
    const portTaken = /Address already in use|Port\(s\) already bound/.test(tail);
    if (!portTaken || options.port !== undefined || attempt >= 3) {
      throw new Error(`Keycloak at ${url} ${why}${tail}`);
    }
  }
}

// deno-lint-ignore no-console
const _say = (line: string) => console.error(line);

async function _cli(args: string[]): Promise<number> {
  const [cmd, flag, value] = args;
  if (cmd === "install") {
    const t0 = performance.now();
    const { home, javaHome } = await ensureKeycloakInstalled({ log: _say });
    _say(
      `Keycloak in ${home}, Java ${javaHome} (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
    );
    return 0;
  }
  if (cmd !== "run" || (flag !== undefined && flag !== "--port")) {
    _say("usage: keycloak.ts install | run [--port N]");
    return 64;
  }
  const trap = trapStopSignals();
  const kc = await startKeycloak({
    log: _say,
    signal: trap.signal,
    ...flag === undefined ? {} : { port: Number(value) },
  });
  _say(`KEYCLOAK_URL=${kc.url}\nKEYCLOAK_ADMIN_USER=${kc.adminUser}`);
  _say(`KEYCLOAK_ADMIN_PASSWORD=${kc.adminPassword}\nlog: ${kc.dir}/stdout.log`);
  return await runUntilStopped(kc, trap, "Keycloak", _say);
}

if (import.meta.main) {
  try {
    Deno.exit(await _cli(Deno.args));
  } catch (err) {
    _say(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
    Deno.exit(err instanceof KeycloakUnavailableError ? 69 : 1);
  }
}
