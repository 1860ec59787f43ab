/**
 * @module The CA certificates clients must chain to: every PEM certificate in the files of one
 * directory whose names match a glob (`LOCAL_CA_CERTS_PATH` + `LOCAL_CA_CERTS_GLOB`).
 */

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Matches a file name against a glob of `*` and `?` wildcards (no directories, no classes). */
export function globMatches(glob: string, name: string): boolean {
  const pattern = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*").replace(
    /\?/g,
    "[^/]",
  );
  return new RegExp(`^${pattern}$`).test(name);
}

/** Reads every matching file and returns its certificates as separate PEM blocks. */
export async function loadCaCertificates(dir: string, glob: string): Promise<string[]> {
  const files: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if ((entry.isFile || entry.isSymlink) && globMatches(glob, entry.name)) {
        files.push(entry.name);
      }
    }
  } catch (err) {
    throw new Error(`Cannot read CA directory ${dir}: ${(err as Error).message}`, { cause: err });
  }
  if (files.length === 0) {
    throw new Error(
      `Cannot load CA certificates: no file in ${dir} matches ${JSON.stringify(glob)}`,
    );
  }
  const pems: string[] = [];
  for (const name of files.sort()) {
    const text = await Deno.readTextFile(`${dir}/${name}`);
    const blocks = text.match(PEM_CERT) ?? [];
    if (blocks.length === 0) {
      throw new Error(`Cannot load CA certificates: ${dir}/${name} has no PEM certificate`);
    }
    pems.push(...blocks.map((b) => b + "\n"));
  }
  return pems;
}
