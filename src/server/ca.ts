/** @module Trusted CA certificates: every PEM certificate in the matching files of a directory. */
import * as x509 from "../x509/x509.ts";

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * Whether file name `name` matches `glob`, where `*` is any run of characters and `?` exactly
 * one; everything else is literal (libpvarki's `LOCAL_CA_CERTS_GLOB`, default `*ca*.pem`).
 */
export function globMatches(glob: string, name: string): boolean {
  const source = [...glob].map((ch) => {
    if (ch === "*") return ".*";
    if (ch === "?") return ".";
    return ch.replace(/[.+^${}()|[\]\\*?]/g, "\\$&");
  }).join("");
  // `s`: a name with a newline in it is still one name.
  return new RegExp(`^${source}$`, "s").test(name);
}

/**
 * Reads every file in `dir` (not its subdirectories) whose name matches `glob` and returns the
 * certificates in them, one PEM block each, files in name order.
 *
 * @throws when the directory cannot be read, nothing matches, or a matching file holds no
 * certificate or one that does not parse — a listener must not start trusting less than meant.
 */
export async function loadCaCertificates(dir: string, glob: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (globMatches(glob, entry.name) && await _isFile(`${dir}/${entry.name}`, entry)) {
        names.push(entry.name);
      }
    }
  } catch (err) {
    throw new Error(`Cannot read CA directory "${dir}": ${(err as Error).message}`, { cause: err });
  }
  if (names.length === 0) {
    throw new Error(`Cannot load CA certificates: no file in "${dir}" matches "${glob}"`);
  }
  const pems: string[] = [];
  for (const name of names.sort()) {
    const path = `${dir}/${name}`;
    const blocks = (await Deno.readTextFile(path)).match(PEM_CERT) ?? [];
    if (blocks.length === 0) {
      throw new Error(`Cannot load CA certificates: "${path}" holds no PEM certificate`);
    }
    for (const [i, pem] of blocks.entries()) {
      try {
        new x509.X509Certificate(pem); // fail here, naming the file, not in the TLS layer
      } catch (err) {
        const why = (err as Error).message;
        throw new Error(
          `Cannot load CA certificates: certificate ${i + 1} in "${path}" does not parse: ${why}`,
          { cause: err },
        );
      }
      pems.push(pem + "\n");
    }
  }
  return pems;
}

// Kubernetes mounts ConfigMaps as symlinks (`ca_chain.pem -> ..data/ca_chain.pem`, `..data ->
// a directory`): follow links, and skip whatever turns out to be a directory.
async function _isFile(path: string, entry: Deno.DirEntry): Promise<boolean> {
  if (!entry.isSymlink) return entry.isFile;
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false; // a dangling link is not a CA file
  }
}
