// deno-lint-ignore-file no-console
/**
 * @module Where the service's CPU goes per RM callback: `perf record` of the service process
 * (the bundle under its production permission set, V8 writing a perf map so JavaScript
 * functions have names) while RM's client (`rm_client.py`) calls at 100/s on a new mTLS
 * connection each, with people waiting for their first login; then the same for the floor
 * process of `floor.ts`. `perf` splits the time by binary (deno is stripped, so V8's builtins,
 * its interpreter, GC and the Rust runtime — TLS, KV — are one "deno"); V8's own sampling
 * profiler (through the inspector) splits the JavaScript side by function, self and total.
 * Not part of `deno task bench`.
 *
 *   tools/deno/deno run -A tools/bench/profile.ts
 *
 * PROFILE_WAITING (1000), PROFILE_CALLS (2000), PROFILE_RATE (100); PROFILE_SYNAPSE=stopped
 * SIGSTOPs Synapse for the recording. Writes `.local/bench/profile-<date>/`.
 */
import { startHomeserver } from "../synapse/homeserver.ts";
import { writeDevPki } from "../dev/pki.ts";
import { servicePermissions } from "../permissions.ts";
import { ensureClient, rmCalls, type Tls } from "./rm_client.ts";
import {
  benchServiceEnv,
  cpuSeconds,
  metricSum,
  prepareBundles,
  rssMiB,
  rssSplitMiB,
  writeBenchManifest,
} from "./probe.ts";

const root = new URL("../../", import.meta.url).pathname;
const int = (name: string, fallback: number) => Number(Deno.env.get(name) ?? fallback);
const WAITING = int("PROFILE_WAITING", 1000);
const CALLS = int("PROFILE_CALLS", 2000);
const RATE = int("PROFILE_RATE", 100);
const STOPPED = Deno.env.get("PROFILE_SYNAPSE") === "stopped";
const out = `${root}.local/bench/profile-${new Date().toISOString().replace(/[:.]/g, "-")}`;
await Deno.mkdir(out, { recursive: true });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (m: string) =>
  console.error(`[profile ${new Date().toISOString().slice(11, 19)}] ${m}`);
const V8 = "--v8-flags=--perf-basic-prof";
const inspectPort = 19229;

const hs = await startHomeserver({ serverName: "bench.test", dir: `${out}/synapse` });
const pki = await writeDevPki(`${out}/pki`);
await writeBenchManifest(out);
const httpPort = 18022, mtlsPort = 14635, floorPort = 14636;
const env = benchServiceEnv({
  synapseUrl: hs.url,
  registrationSecret: hs.registrationSecret,
  out,
  dataDir: `${out}/data`,
  pki,
  httpPort,
  mtlsPort,
});
const { service: bundled, floor: floorBundled } = await prepareBundles(root, out);
const python = await ensureClient(root);
const tls = (port: number): Tls => ({
  url: `https://localhost:${port}/api/v1/users/created`,
  cert: pki.rmCert,
  key: pki.rmKey,
  cacert: pki.caChain,
});

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
/** A Chrome DevTools Protocol session with the process whose inspector listens on `port`. */
async function inspector(port: number) {
  const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
  const ws = new WebSocket(targets[0].webSocketDebuggerUrl);
  await new Promise((r) => ws.onopen = r);
  let id = 0;
  const waiting = new Map<number, (m: { result: unknown }) => void>();
  ws.onmessage = (e) => {
    const m = JSON.parse(e.data);
    waiting.get(m.id)?.(m);
  };
  const send = async (method: string, params = {}) =>
    (await new Promise<{ result: unknown }>((resolve) => {
      waiting.set(++id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    })).result;
  return { send, close: () => ws.close() };
}

/** After a full collection: the live JavaScript heap and the process's memory, MiB. */
async function memory(port: number, pid: number) {
  const s = await inspector(port);
  await s.send("HeapProfiler.collectGarbage");
  const heap = await s.send("Runtime.getHeapUsage") as {
    usedSize: number;
    totalSize: number;
    backingStorageSize?: number;
  };
  s.close();
  const mib = (b: number) => (b / 1048576).toFixed(1);
  const split = await rssSplitMiB(pid);
  return `JS heap ${mib(heap.usedSize)} used of ${mib(heap.totalSize)} MiB` +
    `${
      heap.backingStorageSize === undefined ? "" : `, array buffers ${mib(heap.backingStorageSize)}`
    }` +
    `; VmRSS ${(await rssMiB(pid)).toFixed(1)} MiB (anon ${split.anon.toFixed(1)}, ` +
    `file ${split.file.toFixed(1)})`;
}

/** V8's sampling profiler through the inspector at `port`, around `during`. */
async function v8Profile<T>(port: number, during: () => Promise<T>) {
  const s = await inspector(port);
  await s.send("Profiler.enable");
  await s.send("Profiler.setSamplingInterval", { interval: 250 });
  await s.send("Profiler.start");
  const value = await during();
  const { profile } = await s.send("Profiler.stop") as {
    profile: { nodes: ProfileNode[]; samples: number[] };
  };
  s.close();
  return { value, profile };
}

/** Self and total sample shares per function (name + line), idle excluded. */
function summarise(profile: { nodes: ProfileNode[]; samples: number[] }, lines: number): string {
  const parent = new Map<number, number>();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const label = (n: ProfileNode) =>
    `${n.callFrame.functionName || "(anonymous)"}${
      n.callFrame.url === "" ? "" : `:${n.callFrame.lineNumber + 1}`
    }`;
  const self = new Map<string, number>(), total = new Map<string, number>();
  let busy = 0;
  for (const s of profile.samples) {
    const leaf = byId.get(s)!;
    if (leaf.callFrame.functionName === "(idle)") continue;
    busy++;
    self.set(label(leaf), (self.get(label(leaf)) ?? 0) + 1);
    const seen = new Set<string>();
    for (let n: ProfileNode | undefined = leaf; n; n = byId.get(parent.get(n.id) ?? -1)) {
      const l = label(n);
      if (!seen.has(l)) total.set(l, (total.get(l) ?? 0) + 1);
      seen.add(l);
    }
  }
  const top = (m: Map<string, number>) =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, lines).map(([k, v]) =>
      `${(100 * v / Math.max(1, busy)).toFixed(1).padStart(6)}%  ${k}`
    ).join("\n");
  return `${busy} busy samples (250 µs)\n\n#### self\n\n${top(self)}\n\n#### total\n\n${
    top(total)
  }`;
}

async function perfReport(data: string, sort: string, lines: number): Promise<string> {
  const o = await new Deno.Command("perf", {
    args: [
      "report",
      "-i",
      data,
      "--stdio",
      "--no-children",
      "--percent-limit",
      "0.5",
      "--sort",
      sort,
    ],
    stdout: "piped",
    stderr: "null",
  }).output();
  return new TextDecoder().decode(o.stdout).split("\n").filter((l) =>
    l !== "" && !l.startsWith("#")
  )
    .filter((l) => /^\s+\d/.test(l)).slice(0, lines).join("\n");
}

/** CPU seconds per thread name (`/proc/<pid>/task/<tid>/stat`). */
async function threads(pid: number): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for await (const t of Deno.readDir(`/proc/${pid}/task`)) {
    const stat = await Deno.readTextFile(`/proc/${pid}/task/${t.name}/stat`).catch(() => "");
    if (stat === "") continue;
    const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")).replace(/\d+$/, "#");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    out.set(comm, (out.get(comm) ?? 0) + (Number(f[11]) + Number(f[12])) / 100);
  }
  return out;
}

/** Records `pid` while RM calls at RATE/s; returns the reports. */
async function record(name: string, pid: number, port: number, inspect: number, names: string[]) {
  const data = `${out}/${name}.perf.data`;
  const perf = new Deno.Command("perf", {
    args: ["record", "-F", "499", "-g", "-p", String(pid), "-o", data],
    stdout: "null",
    stderr: "null",
  }).spawn();
  await sleep(500);
  const c0 = await cpuSeconds(pid);
  const t0 = await threads(pid);
  const { value: calls, profile } = await v8Profile(
    inspect,
    () => rmCalls(python, tls(port), names, { mode: "open", rate: RATE, count: CALLS }),
  );
  const cpuMs = ((await cpuSeconds(pid)) - c0) * 1000;
  const t1 = await threads(pid);
  const perThread = [...t1].map(([k, v]) => [k, v - (t0.get(k) ?? 0)] as const)
    .filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${(v * 1000 / Math.max(1, calls.ok)).toFixed(2).padStart(6)} ms/call  ${k}`)
    .join("\n");
  perf.kill("SIGINT");
  await perf.status;
  const report = `## ${name}: ${calls.ok}/${CALLS} answered, p50 ${calls.p50.toFixed(1)} ms, ` +
    `p99 ${calls.p99.toFixed(1)} ms, ${
      (cpuMs / Math.max(1, calls.ok)).toFixed(2)
    } ms CPU/call\n\n` +
    `### CPU by thread\n\n${perThread}\n\n### by binary\n\n${await perfReport(
      data,
      "dso",
      12,
    )}\n\n` +
    `### by native function\n\n${await perfReport(data, "dso,sym", 25)}\n\n` +
    `### JavaScript (V8 profiler)\n\n${summarise(profile, 40)}\n`;
  await Deno.writeTextFile(`${out}/${name}.txt`, report);
  // V8's perf map (`--perf-basic-prof`) is only for the report above.
  await Deno.remove(`/tmp/perf-${pid}.map`).catch(() => {});
  return report;
}

// ---- the service ------------------------------------------------------------------------------
const child = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "--no-config",
    "--no-lock",
    V8,
    `--inspect=127.0.0.1:${inspectPort}`,
    ...servicePermissions(env),
    bundled,
    "serve",
  ],
  env,
  stdout: "null",
  stderr: "null",
}).spawn();
for (;;) {
  const res = await fetch(`http://127.0.0.1:${httpPort}/api/v1/status`).catch(() => null);
  if (res !== null && (await res.json()).bootstrap.phase === "ready") break;
  await sleep(50);
}
await sleep(2000);
const memIdle = await memory(inspectPort, child.pid);
const client = Deno.createHttpClient({
  caCerts: [await Deno.readTextFile(pki.caChain)],
  cert: await Deno.readTextFile(pki.rmCert),
  key: await Deno.readTextFile(pki.rmKey),
});
const names = Array.from({ length: WAITING }, (_, i) => `w${i}`);
log(`${WAITING} people waiting for a first login`);
let next = 0;
await Promise.all(Array.from({ length: 16 }, async () => {
  while (next < names.length) {
    const callsign = names[next++]!;
    const res = await fetch(`https://localhost:${mtlsPort}/api/v1/users/created`, {
      client,
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ uuid: callsign, callsign, x509cert: "-" }),
    });
    await res.body?.cancel();
  }
}));
client.close();
// Settled: no KV write for 6 s.
for (let last = -1, since = Date.now(); Date.now() - since < 6000; await sleep(500)) {
  const page = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const kv = metricSum(page, "matrixrmapi_kv_writes_total");
  if (kv !== last) [last, since] = [kv, Date.now()];
}
const memWaiting = await memory(inspectPort, child.pid);
// Warm: the same traffic for 2 s first.
await rmCalls(python, tls(mtlsPort), names, { mode: "open", rate: RATE, count: 2 * RATE });
log(`recording the service: ${CALLS} calls at ${RATE}/s${STOPPED ? ", Synapse stopped" : ""}`);
if (STOPPED) Deno.kill(hs.pid, "SIGSTOP");
const service = await record("service", child.pid, mtlsPort, inspectPort, names);
if (STOPPED) Deno.kill(hs.pid, "SIGCONT");
const memAfter = await memory(inspectPort, child.pid);
const memReport = `## service memory, after a full collection\n\n- idle: ${memIdle}\n` +
  `- ${WAITING} waiting: ${memWaiting}\n- after the ${CALLS + 2 * RATE} calls: ${memAfter}\n`;
await Deno.writeTextFile(`${out}/memory.txt`, memReport);
child.kill("SIGTERM");
await child.status;

// ---- the floor --------------------------------------------------------------------------------
const floor = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "--no-config",
    "--no-lock",
    V8,
    `--inspect=127.0.0.1:${inspectPort + 1}`,
    "--unstable-kv",
    "-A",
    floorBundled,
  ],
  env: {
    FLOOR_PORT: String(floorPort),
    FLOOR_CERT: pki.serverCert,
    FLOOR_KEY: pki.serverKey,
    FLOOR_CA: pki.caChain,
    FLOOR_KV: `${out}/floor.kv`,
  },
  stdout: "null",
  stderr: "null",
}).spawn();
await sleep(2000);
const floorIdle = await memory(inspectPort + 1, floor.pid);
await rmCalls(python, tls(floorPort), names, { mode: "open", rate: RATE, count: 2 * RATE });
log("recording the floor");
const floorReport = await record("floor", floor.pid, floorPort, inspectPort + 1, names);
const floorMem = `## floor memory, after a full collection\n\n- idle: ${floorIdle}\n` +
  `- after the ${CALLS + 2 * RATE} calls: ${await memory(inspectPort + 1, floor.pid)}\n`;
floor.kill("SIGTERM");
await floor.status;
await hs.stop();
console.log(`${memReport}\n${floorMem}\n${service}\n${floorReport}`);
log(`results in ${out}`);
