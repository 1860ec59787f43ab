import { bundle } from "../bundle.ts";
/**
 * @module What the bench reads about a running process from outside: resident memory and CPU
 * time from `/proc`, the KV file's size on disk, the service's Prometheus counters, and when a
 * port starts accepting connections. Plus percentiles.
 */

/** Resident set size in MiB (VmRSS). */
export async function rssMiB(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

/** VmRSS split: anonymous memory (heaps) and file pages (mostly the deno executable's code), MiB. */
export async function rssSplitMiB(pid: number): Promise<{ anon: number; file: number }> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kib = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { anon: kib("RssAnon") / 1024, file: (kib("RssFile") + kib("RssShmem")) / 1024 };
}

/**
 * The machine as a whole: busy CPU time (all cores, seconds, from /proc/stat) and the time some
 * runnable task waited for a CPU (seconds, /proc/pressure/cpu; null where the kernel lacks PSI).
 */
export async function machineCpu(): Promise<{ busyS: number; waitS: number | null }> {
  const [cpu] = (await Deno.readTextFile("/proc/stat")).split("\n");
  const t = cpu!.trim().split(/\s+/).slice(1).map(Number);
  const busy = t.reduce((a, b) => a + b, 0) - (t[3] ?? 0) - (t[4] ?? 0); // minus idle, iowait
  const psi = await Deno.readTextFile("/proc/pressure/cpu").catch(() => "");
  const some = /some .*total=(\d+)/.exec(psi)?.[1];
  return { busyS: busy / 100, waitS: some === undefined ? null : Number(some) / 1e6 };
}

/** User + system CPU seconds of every thread of `pid` so far (clock ticks of 10 ms). */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  // Fields after the command name (which may hold spaces) start at index 2 (state).
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Bytes on disk of a SQLite file with its `-wal` and `-shm`. */
export async function sqliteBytes(path: string): Promise<number> {
  let total = 0;
  for (const suffix of ["", "-wal", "-shm"]) {
    total += await Deno.stat(`${path}${suffix}`).then((s) => s.size, () => 0);
  }
  return total;
}

/** The sum of every series of `name` in a Prometheus text page. */
export function metricSum(page: string, name: string): number {
  let sum = 0;
  for (const line of page.split("\n")) {
    if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
      sum += Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return sum;
}

/** Every series of `name` in a Prometheus text page, by its labels. */
export function metricSeries(page: string, name: string): Map<string, number> {
  const series = new Map<string, number>();
  for (const line of page.split("\n")) {
    if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
      const cut = line.lastIndexOf(" ");
      series.set(line.slice(name.length, cut), Number(line.slice(cut + 1)));
    }
  }
  return series;
}

/** Polls TCP connects every 2 ms until `port` accepts; ms since `t0` (performance.now()). */
export async function waitListening(port: number, t0: number, timeoutMs = 20_000): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      return performance.now() - t0;
    } catch {
      await new Promise((r) => setTimeout(r, 2));
    }
  }
  throw new Error(`nothing listens on ${port} after ${timeoutMs} ms`);
}

/** The nearest-rank percentile (`p` in 0..1) of `values`; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1))]!;
}

export const median = (values: readonly number[]): number => percentile(values, 0.5);

/** The manifest the benched service reads (`${out}/manifest.json`, as benchServiceEnv names it). */
export async function writeBenchManifest(out: string): Promise<void> {
  await Deno.writeTextFile(
    `${out}/manifest.json`,
    JSON.stringify({
      deployment: "svc",
      rasenmaeher: { certcn: "rasenmaeher" },
      product: { dns: "matrix.bench.test" },
    }),
  );
}

/** The service's environment for a bench run: its own data, the dev PKI, loopback ports. */
export function benchServiceEnv(o: {
  synapseUrl: string;
  registrationSecret: string;
  out: string;
  dataDir: string;
  pki: { serverCert: string; serverKey: string; caDir: string };
  httpPort: number;
  mtlsPort: number;
}): Record<string, string> {
  return {
    SYNAPSE_URL: o.synapseUrl,
    SYNAPSE_REGISTRATION_SECRET: o.registrationSecret,
    SERVER_DOMAIN: "bench.test",
    KRAFTWERK_MANIFEST: `${o.out}/manifest.json`,
    PERSISTENT_DATA_PATH: o.dataDir,
    MTLS_SERVER_CERT_PATH: o.pki.serverCert,
    MTLS_SERVER_KEY_PATH: o.pki.serverKey,
    LOCAL_CA_CERTS_PATH: o.pki.caDir,
    MTLS_PORT: String(o.mtlsPort),
    HTTP_PORT: String(o.httpPort),
    BIND_HOST: "127.0.0.1",
    LOG_LEVEL: "WARNING",
    // As the image sets it (Dockerfile).
    GLIBC_TUNABLES: MALLOC_TUNABLES,
  };
}

/**
 * glibc returns freed buffers over 64 KiB to the system instead of keeping them in its arenas:
 * the service's resident memory after a few thousand mTLS callbacks is then 10–15 MiB lower.
 */
export const MALLOC_TUNABLES =
  "glibc.malloc.mmap_threshold=65536:glibc.malloc.trim_threshold=65536";

/**
 * The service's and the floor's bundles in `out`, each analysed by Deno once, so neither first
 * start pays for parsing it (see warmModuleGraph).
 */
export async function prepareBundles(
  root: string,
  out: string,
): Promise<{ service: string; floor: string }> {
  const service = await bundle(`${out}/matrixrmapi.js`);
  const floor = await bundleFloor(root, `${out}/floor.js`);
  await warmModuleGraph(service);
  await warmModuleGraph(floor);
  return { service, floor };
}

/**
 * Has Deno analyse a freshly written bundle once, as a compiled executable never needs to at
 * start: the first `deno run` of a new path parses the whole bundle to build its module graph,
 * and the parser's memory (about 40 MiB) stays resident for the life of that process.
 */
export async function warmModuleGraph(js: string): Promise<void> {
  const o = await new Deno.Command(Deno.execPath(), {
    args: ["cache", "--no-config", "--no-lock", js],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!o.success) throw new Error(`deno cache ${js}: ${new TextDecoder().decode(o.stderr)}`);
}

/** Bundles the floor (tools/bench/floor.ts) to `output` and returns its path. */
export async function bundleFloor(root: string, output: string): Promise<string> {
  const o = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--frozen", "--platform", "deno", "--output", output, "tools/bench/floor.ts"],
    cwd: root,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!o.success) {
    throw new Error(`bundling floor.ts failed:\n${new TextDecoder().decode(o.stderr)}`);
  }
  return output;
}
