/**
 * @module The volumes as the service finds them: `prepare-volumes` makes them the service's own
 * (the Python image ran as root and left root-owned, 0600 files), and the start-up check names
 * every file the service cannot use, with its owner, its mode and the command that fixes it.
 */
import type { VolumePaths } from "../config/config.ts";
import { dirname } from "../util/path.ts";

/** The image's user (distroless `nonroot`). */
export const IMAGE_UID = 65532;
export const IMAGE_GID = 65532;

/** What an operator runs once to adopt volumes another image wrote. */
export const PREPARE_COMMAND =
  "docker compose run --rm --no-deps --user 0 matrixrmapi prepare-volumes";

export interface PrepareReport {
  /** Directories that did not exist and were made (the `oidc` mount point among them). */
  readonly created: readonly string[];
  /** Entries whose owner was changed. */
  readonly chowned: number;
  /** Up to 20 of them, for the log. */
  readonly examples: readonly string[];
}

/** The directories the service writes in, each once, outermost first. */
function _ownDirectories(paths: VolumePaths, selfManagedPair: boolean): string[] {
  const dirs = [
    paths.dataPath,
    dirname(paths.registrationPath),
    dirname(paths.kvPath),
    ...(selfManagedPair ? [dirname(paths.clientCertPath), dirname(paths.clientKeyPath)] : []),
  ];
  return [...new Set(dirs)].sort((a, b) => a.length - b.length);
}

/**
 * Makes the service's directories exist and everything in them owned by `uid:gid`; changes no
 * mode and nothing outside them (the manifest, the CA files and an external pair stay as they
 * are). Symbolic links are neither followed nor changed. Idempotent.
 *
 * @throws when not run as root (`chown` refused), naming the path and what to do
 */
export async function prepareVolumes(
  paths: VolumePaths,
  options: { uid?: number; gid?: number; selfManagedPair?: boolean } = {},
): Promise<PrepareReport> {
  const uid = options.uid ?? IMAGE_UID;
  const gid = options.gid ?? IMAGE_GID;
  const created: string[] = [];
  const examples: string[] = [];
  let chowned = 0;
  const seen = new Set<string>();
  async function adopt(path: string, info: Deno.FileInfo): Promise<void> {
    if (seen.has(path)) return;
    seen.add(path);
    if (info.isSymlink || (info.uid === uid && info.gid === gid)) return;
    try {
      await Deno.chown(path, uid, gid);
    } catch (err) {
      if (err instanceof Deno.errors.PermissionDenied) {
        throw new Error(
          `Cannot make "${path}" owned by ${uid}:${gid}: prepare-volumes must run as root ` +
            `(compose: user: "0"; by hand: ${PREPARE_COMMAND})`,
          { cause: err },
        );
      }
      throw err;
    }
    chowned++;
    if (examples.length < 20) examples.push(`${path} (was ${info.uid}:${info.gid})`);
  }
  async function walk(dir: string): Promise<void> {
    for await (const entry of Deno.readDir(dir)) {
      const path = `${dir}/${entry.name}`;
      const info = await Deno.lstat(path);
      await adopt(path, info);
      if (info.isDirectory) await walk(path);
    }
  }
  for (const dir of _ownDirectories(paths, options.selfManagedPair ?? true)) {
    if (!await _exists(dir)) {
      await Deno.mkdir(dir, { recursive: true });
      created.push(dir);
    }
    await adopt(dir, await Deno.lstat(dir));
    await walk(dir);
  }
  return { created, chowned, examples };
}

/** One file or directory the service cannot use as it is. */
export interface VolumeFinding {
  readonly path: string;
  readonly need: "read" | "write";
  readonly uid: number | null;
  readonly gid: number | null;
  /** Permission bits, e.g. `0600`. */
  readonly mode: string | null;
  /** One sentence with the owner, the mode and the command. */
  readonly message: string;
}

/**
 * Tries what the service will do with its files — read the token, the pair and the registration,
 * write in its directories — and reports each refusal by the operating system. Only an existing
 * file can be unreadable; a directory is tried with a probe file that is removed at once.
 */
export async function checkVolumes(
  paths: VolumePaths,
  options: { selfManagedPair: boolean },
): Promise<VolumeFinding[]> {
  const findings: VolumeFinding[] = [];
  const files = [
    paths.legacyTokenFile,
    paths.registrationPath,
    paths.kvPath,
    ...(options.selfManagedPair ? [paths.clientCertPath, paths.clientKeyPath] : []),
  ];
  for (const path of files) {
    try {
      (await Deno.open(path, { read: true })).close();
    } catch (err) {
      if (err instanceof Deno.errors.PermissionDenied) findings.push(await _finding(path, "read"));
    }
  }
  for (const dir of _ownDirectories(paths, options.selfManagedPair)) {
    let probe: string | null = null;
    try {
      probe = await Deno.makeTempFile({ dir, prefix: ".matrixrmapi-probe-" });
    } catch (err) {
      if (err instanceof Deno.errors.PermissionDenied) findings.push(await _finding(dir, "write"));
    } finally {
      if (probe !== null) await Deno.remove(probe).catch(() => {});
    }
  }
  return findings;
}

async function _finding(path: string, need: "read" | "write"): Promise<VolumeFinding> {
  const info = await Deno.stat(path).catch(() => null);
  const mode = info?.mode == null ? null : `0${(info.mode & 0o777).toString(8)}`;
  const owner = info === null ? "an unknown owner" : `uid ${info.uid} gid ${info.gid}`;
  return {
    path,
    need,
    uid: info?.uid ?? null,
    gid: info?.gid ?? null,
    mode,
    message: `cannot ${need} "${path}": owned by ${owner} with mode ${mode ?? "unknown"}, and ` +
      `this service runs as another user (the image: ${IMAGE_UID}). Run once, as root: ` +
      `${PREPARE_COMMAND}`,
  };
}

async function _exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}
