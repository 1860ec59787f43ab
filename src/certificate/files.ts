/**
 * @module The product's key and certificate on the volume, where kw_product_init keeps them
 * (`private/mtlsclient.key`, `public/mtlsclient.pem`). Every write is a temporary file, fsync,
 * rename; a pair is swapped key first with both halves already on disk, so a crash at any moment
 * leaves a usable pair, a key awaiting its certificate, or a swap the next start completes.
 */
import { readTextOrNull } from "../config/config.ts";
import { dirname } from "../util/path.ts";

export interface PairPaths {
  readonly certPath: string;
  readonly keyPath: string;
}

/** What is on the volume now; a missing file is `null`. */
export interface StoredPair {
  readonly certPem: string | null;
  readonly keyPem: string | null;
}

/** Where a renewal stages its new pair before the swap. */
export function stagedPaths(paths: PairPaths): PairPaths {
  return { certPath: `${paths.certPath}.next`, keyPath: `${paths.keyPath}.next` };
}

export async function readStored(paths: PairPaths): Promise<StoredPair> {
  return {
    certPem: await readTextOrNull(paths.certPath),
    keyPem: await readTextOrNull(paths.keyPath),
  };
}

/** Writes `text` to `path` atomically with `mode`, creating the directory. */
export async function writeAtomic(path: string, text: string, mode: number): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const temp = `${path}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  try {
    const file = await Deno.open(temp, { write: true, createNew: true, mode });
    try {
      const bytes = new TextEncoder().encode(text);
      let written = 0;
      while (written < bytes.length) written += await file.write(bytes.subarray(written));
      await file.sync();
    } finally {
      file.close();
    }
    await Deno.chmod(temp, mode); // the umask may have narrowed or the mode option been ignored
    await Deno.rename(temp, path);
  } catch (err) {
    await Deno.remove(temp).catch(() => {});
    throw err;
  }
}

export const KEY_MODE = 0o600;
export const CERT_MODE = 0o644;

/** Stores a pair: key first, then the certificate, each atomically (fresh enrolment). */
export async function writePair(paths: PairPaths, keyPem: string, certPem: string): Promise<void> {
  await writeAtomic(paths.keyPath, keyPem, KEY_MODE);
  await writeAtomic(paths.certPath, certPem, CERT_MODE);
}

/**
 * Replaces a working pair with a verified new one. Both halves are staged complete first; then
 * the key and the certificate are renamed into place. A crash between the two renames leaves the
 * new key beside the staged certificate, which `completeStagedSwap` finishes on the next start.
 */
export async function swapPair(paths: PairPaths, keyPem: string, certPem: string): Promise<void> {
  const staged = stagedPaths(paths);
  await writeAtomic(staged.keyPath, keyPem, KEY_MODE);
  await writeAtomic(staged.certPath, certPem, CERT_MODE);
  await Deno.rename(staged.keyPath, paths.keyPath);
  await Deno.rename(staged.certPath, paths.certPath);
}

/** Moves a broken file aside (never deletes an identity); returns where it went. */
export async function setAside(path: string, now: Date): Promise<string> {
  const aside = `${path}.unusable-${now.toISOString().replace(/[:.]/g, "-")}`;
  await Deno.rename(path, aside);
  return aside;
}

export async function removeIfExists(path: string): Promise<void> {
  await Deno.remove(path).catch((err) => {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  });
}
