/**
 * @module CFSSL 1.6.5 (the ecosystem's CA) for the tests: found already built, or `go install`ed
 * into `.local/go-bin/`. Without Go and without a binary, {@linkcode CfsslUnavailableError}.
 */
export const CFSSL_VERSION = "v1.6.5";
const MODULE = "github.com/cloudflare/cfssl";
const TOOLS = ["cfssl", "cfssljson"] as const;

/** Where the two binaries are. */
export interface CfsslBins {
  readonly cfssl: string;
  readonly cfssljson: string;
}

export class CfsslUnavailableError extends Error {
  override readonly name = "CfsslUnavailableError";
}

/** The repository's `.local/go-bin`, where {@linkcode ensureCfssl} installs. */
export function localGoBin(): string {
  return new URL("../../.local/go-bin", import.meta.url).pathname;
}

/**
 * A pinned CFSSL already built: `$CFSSL_BIN_DIR`, `.local/go-bin`, then Go's own bin folder.
 * Only cgo builds whose build info names cfssl at {@linkcode CFSSL_VERSION} count.
 */
export async function findCfssl(): Promise<CfsslBins | null> {
  const dirs = [Deno.env.get("CFSSL_BIN_DIR"), localGoBin(), await _goEnvBin()];
  for (const dir of dirs) {
    if (dir === undefined || dir === null || dir === "") continue;
    const bins = { cfssl: `${dir}/cfssl`, cfssljson: `${dir}/cfssljson` };
    if (await _pinned(bins.cfssl) && await _pinned(bins.cfssljson)) return bins;
  }
  return null;
}

/** Finds CFSSL, or installs it with `go install` (≈70 s) into `.local/go-bin`. */
export async function ensureCfssl(log: (line: string) => void): Promise<CfsslBins> {
  const found = await findCfssl();
  if (found !== null) return found;
  const gobin = localGoBin();
  log(`installing CFSSL ${CFSSL_VERSION} into ${gobin} (go install, about a minute)`);
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("go", {
      args: ["install", ...TOOLS.map((t) => `${MODULE}/cmd/${t}@${CFSSL_VERSION}`)],
      env: { GOBIN: gobin, GOFLAGS: "-buildvcs=false" },
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (err) {
    throw new CfsslUnavailableError(`cannot run go to install CFSSL: ${(err as Error).message}`);
  }
  if (!out.success) {
    const why = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-5).join("\n");
    throw new CfsslUnavailableError(`go install of CFSSL ${CFSSL_VERSION} failed:\n${why}`);
  }
  const bins = await findCfssl();
  if (bins === null) {
    throw new CfsslUnavailableError(
      `CFSSL in ${gobin} is not a cgo build of ${CFSSL_VERSION} (is a C compiler installed?)`,
    );
  }
  return bins;
}

async function _goEnvBin(): Promise<string | null> {
  try {
    const out = await new Deno.Command("go", { args: ["env", "GOPATH"], stderr: "null" }).output();
    const gopath = new TextDecoder().decode(out.stdout).trim().split(":")[0];
    return out.success && gopath ? `${gopath}/bin` : null;
  } catch {
    return null; // no Go here
  }
}

/** Whether `path` is a Go binary built from cfssl at the pinned version. */
async function _pinned(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    const out = await new Deno.Command("go", { args: ["version", "-m", path], stderr: "null" })
      .output();
    const info = new TextDecoder().decode(out.stdout);
    // cgo: CFSSL's certificate database is SQLite through go-sqlite3, which needs it.
    return out.success && new RegExp(`\\tmod\\t${MODULE}\\t${CFSSL_VERSION}\\b`).test(info) &&
      /\tbuild\tCGO_ENABLED=1\b/.test(info);
  } catch {
    return false;
  }
}
