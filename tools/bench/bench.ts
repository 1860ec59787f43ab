// deno-lint-ignore-file no-console
/**
 * @module `deno task bench`: the service as a process under its production permission set,
 * against a real Synapse, called by a simulated RM over mTLS — every figure against a goal and,
 * where one exists, a yardstick measured side by side in the same run. Writes `.local/bench/`
 * and, for the default sizes (or `BENCH_USERS` ≥ 1000, as the scale run), `docs/bench/`, which
 * holds only what this writes (docs/benchmarks.md, the prose, links to it and is never written).
 *
 * Sizes (environment): BENCH_USERS (300), BENCH_PROMOTIONS (100), BENCH_ACK_CALLS (2000 per
 * acknowledgement variant), BENCH_ACK_RATE (100 calls/s), BENCH_WAITING (1000) and
 * BENCH_WAITING_FEW (100) people waiting for a first login, BENCH_WINDOW_S (60, the window their
 * cost is read over), BENCH_BUSY_USERS (200, the burst the service converges while RM calls).
 */
import { createRoomLocks } from "../../src/rooms/locks.ts";
import { startHomeserver } from "../synapse/homeserver.ts";
import { writeDevPki } from "../dev/pki.ts";
import { servicePermissions } from "../permissions.ts";
import { createSynapseHttp } from "../../src/synapse/http.ts";
import { randomPassword, registerWithSharedSecret } from "../../src/synapse/registration.ts";
import { joinedRooms, roomMembers } from "../../src/synapse/membership.ts";
import { roomState } from "../../src/synapse/rooms.ts";
import { createBootstrap } from "../../src/bootstrap/bootstrap.ts";
import { createStore } from "../../src/store/store.ts";
import { createLogger } from "../../src/log/logger.ts";
import type { RoomIds } from "../../src/matrix/deployment.ts";
import { bestConcurrency, directJoins, directPromotions, floorPromotions } from "./yardstick.ts";
import { convergenceSvg, markdownTable, type Row } from "./report.ts";
import {
  type Calls,
  curlCalls,
  type CurlSplit,
  ensureClient,
  rmCalls,
  type Tls,
} from "./rm_client.ts";
import { writeRsaServerCert } from "./rsa_cert.ts";
import {
  benchServiceEnv,
  cpuSeconds,
  machineCpu,
  median,
  metricSeries,
  metricSum,
  percentile,
  prepareBundles,
  rssMiB,
  rssSplitMiB,
  sqliteBytes,
  waitListening,
  writeBenchManifest,
} from "./probe.ts";

const root = new URL("../../", import.meta.url).pathname;
const int = (name: string, fallback: number) => Number(Deno.env.get(name) ?? fallback);
const N = int("BENCH_USERS", 300);
const M = Math.min(N, int("BENCH_PROMOTIONS", 100));
const ACK_CALLS = int("BENCH_ACK_CALLS", 2000);
const ACK_RATE = int("BENCH_ACK_RATE", 100);
const WAITING = int("BENCH_WAITING", 1000);
const WAITING_FEW = Math.min(WAITING, int("BENCH_WAITING_FEW", 100));
const WINDOW_MS = int("BENCH_WINDOW_S", 60) * 1000;
const BUSY = Math.min(N, int("BENCH_BUSY_USERS", 200));
const MAX_RATE_CALLS = Math.max(200, Math.round(ACK_CALLS / 4));
const RESTARTS = 5;
/** For experiments: V8 flags for the service and the floor (e.g. `--max-old-space-size=48`). */
const V8_FLAGS = Deno.env.get("BENCH_V8_FLAGS") ?? "";
const v8 = V8_FLAGS === "" ? [] : [`--v8-flags=${V8_FLAGS}`];
const defaults = N === 300 && M === 100 && ACK_CALLS === 2000 && ACK_RATE === 100 &&
  WAITING === 1000 && WAITING_FEW === 100 && WINDOW_MS === 60_000 && BUSY === 200 &&
  V8_FLAGS === "";
/** `latest`: docs/bench/latest.* and convergence.svg; `scale`: docs/bench/scale-<N>.*. */
const publish = Deno.env.get("BENCH_PUBLISH") ??
  (defaults ? "latest" : N >= 1000 ? "scale" : "none");
const out = `${root}.local/bench/${new Date().toISOString().replace(/[:.]/g, "-")}`;
await Deno.mkdir(out, { recursive: true });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (m: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${m}`);
const PUBLIC = ["space", "general", "helpdesk", "offtopic"] as const;
const fmt = (n: number, digits = 1) => Number.isFinite(n) ? n.toFixed(digits) : "–";
const thousands = (n: number) => n.toLocaleString("en-US");

const hs = await startHomeserver({ serverName: "bench.test", dir: `${out}/synapse` });
const http = createSynapseHttp({ baseUrl: hs.url, timeoutMs: 60_000 });
const raw: Record<string, unknown> = {
  date: new Date().toISOString(),
  users: N,
  promotions: M,
  sizes: {
    ackCalls: ACK_CALLS,
    ackRate: ACK_RATE,
    waiting: WAITING,
    waitingFew: WAITING_FEW,
    windowMs: WINDOW_MS,
    busyUsers: BUSY,
    v8Flags: V8_FLAGS,
    maxRateCalls: MAX_RATE_CALLS,
  },
};
const rows: Row[] = [];
const total = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

async function register(prefix: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < n) {
      const name = `${prefix}${next++}`;
      const r = await registerWithSharedSecret(http, hs.registrationSecret, {
        username: name,
        password: randomPassword(),
        admin: false,
      });
      if (r.kind === "registered") ids.push(r.userId);
    }
  }));
  return ids;
}
const localpart = (userId: string) => userId.slice(1, userId.indexOf(":"));

// ---- the service, as a process -------------------------------------------------------------
const pki = await writeDevPki(`${out}/pki`);
const rsa = await writeRsaServerCert(`${out}/pki-rsa`);
await writeBenchManifest(out);
const httpPort = 18012, mtlsPort = 14625, floorPort = 14626;
const dataDir = `${out}/data`;
const kvPath = `${dataDir}/matrixrmapi.kv`;
const env = benchServiceEnv({
  synapseUrl: hs.url,
  registrationSecret: hs.registrationSecret,
  out,
  dataDir: dataDir,
  pki,
  httpPort,
  mtlsPort,
});
const { service: bundled, floor: floorBundled } = await prepareBundles(root, out);
const python = await ensureClient(root);
const ecdsaPair = { cert: pki.serverCert, key: pki.serverKey };
const rsaPair = { cert: rsa.certChain, key: rsa.key };
const tlsTo = (port: number, cacert: string): Tls => ({
  url: `https://localhost:${port}/api/v1/users/created`,
  cert: pki.rmCert,
  key: pki.rmKey,
  cacert,
});

interface Service {
  readonly child: Deno.ChildProcess;
  readonly pid: number;
  /** The plain listener answers `/api/v1/status` (polled every 10 ms). */
  readonly listeningMs: number;
  /** The mTLS port accepts TCP connections (polled every 2 ms). */
  readonly mtlsAcceptMs: number;
  readonly readyMs: number;
}

async function startService(pair = ecdsaPair): Promise<Service> {
  const e = { ...env, MTLS_SERVER_CERT_PATH: pair.cert, MTLS_SERVER_KEY_PATH: pair.key };
  const t0 = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-config", "--no-lock", ...v8, ...servicePermissions(e), bundled, "serve"],
    env: e,
    stdout: "null",
    stderr: "null",
  }).spawn();
  const accept = waitListening(mtlsPort, t0);
  let listeningMs = -1;
  for (;;) {
    const res = await fetch(`http://127.0.0.1:${httpPort}/api/v1/status`).catch(() => null);
    if (res !== null) {
      const body = await res.json();
      if (listeningMs < 0) listeningMs = performance.now() - t0;
      if (body.bootstrap.phase === "ready") {
        const readyMs = performance.now() - t0;
        return { child, pid: child.pid, listeningMs, mtlsAcceptMs: await accept, readyMs };
      }
    }
    await sleep(10);
  }
}
async function stopService(s: Service): Promise<void> {
  s.child.kill("SIGTERM");
  await s.child.status;
}

/** The median of five looks at VmRSS, a second apart. */
async function steadyRss(pid: number): Promise<number> {
  const looks: number[] = [];
  for (let i = 0; i < 5; i++) {
    await sleep(1000);
    looks.push(await rssMiB(pid));
  }
  return median(looks);
}
const status = async () => await (await fetch(`http://127.0.0.1:${httpPort}/api/v1/status`)).json();
async function counters() {
  const page = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  return {
    synapse: metricSum(page, "matrixrmapi_synapse_requests_total"),
    bySeries: metricSeries(page, "matrixrmapi_synapse_requests_total"),
    kv: metricSum(page, "matrixrmapi_kv_writes_total"),
    at: performance.now(),
  };
}
/** Synapse requests per endpoint (status folded in) between two `counters()` readings. */
function requestsBetween(
  a: Awaited<ReturnType<typeof counters>>,
  b: Awaited<ReturnType<typeof counters>>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of b.bySeries) {
    const d = v - (a.bySeries.get(k) ?? 0);
    const endpoint = /endpoint="([^"]*)"/.exec(k)?.[1] ?? k;
    if (d !== 0) out[endpoint] = (out[endpoint] ?? 0) + d;
  }
  return out;
}
/** Waits until no KV write happened for 6 s (the service has nothing left to do now). */
async function settle(timeoutMs = 600_000): Promise<number> {
  const t0 = performance.now();
  let last = -1, since = t0;
  while (performance.now() - t0 < timeoutMs) {
    const c = await counters();
    if (c.kv !== last) [last, since] = [c.kv, c.at];
    else if (c.at - since >= 6000) return since - t0;
    await sleep(500);
  }
  throw new Error(`the service kept writing for ${timeoutMs / 1000} s`);
}

// The admin state API: the yardstick's bot is not a member of the service's rooms.
const levelsOf = async (roomId: string) =>
  (await roomState(http.as(yard!.token), roomId)).find((e) => e.type === "m.room.power_levels")
    ?.content;

const client = Deno.createHttpClient({
  caCerts: [await Deno.readTextFile(pki.caChain)],
  cert: await Deno.readTextFile(pki.rmCert),
  key: await Deno.readTextFile(pki.rmKey),
});
async function callback(action: string, callsign: string): Promise<number> {
  const res = await fetch(`https://localhost:${mtlsPort}/api/v1/users/${action}`, {
    client,
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ uuid: callsign, callsign, x509cert: "-" }),
  });
  await res.body?.cancel();
  return res.status;
}
/** Set-up traffic (Deno's client, keep-alive): `action` for every name, `concurrency` at a time. */
async function submitAll(action: string, names: readonly string[], concurrency = 32) {
  let next = 0;
  const statuses: number[] = [];
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < names.length) statuses.push(await callback(action, names[next++]!));
  }));
  const bad = statuses.filter((s) => s !== 200).length;
  if (bad > 0) throw new Error(`${bad} of ${names.length} ${action} callbacks failed`);
}

/**
 * Waits until the service has no pending work (its own word, read every 50 ms from the plain
 * listener: cheap, unlike reading Synapse's rooms), then checks Synapse; while Synapse does not
 * agree yet, reads Synapse every 250 ms. Returns ms since `t0` and progress points.
 */
async function untilConverged(
  t0: number,
  total: number,
  correct: () => Promise<number>,
  points: Array<[number, number]>,
  timeoutMs: number,
): Promise<{ ms: number; correct: number }> {
  for (;;) {
    const pending = (await status()).lifecycle.pending as number;
    points.push([(performance.now() - t0) / 1000, Math.max(0, (total - pending) / total)]);
    if (pending === 0 || performance.now() - t0 > timeoutMs) break;
    await sleep(50);
  }
  for (;;) {
    const ms = performance.now() - t0;
    const n = await correct();
    if (n === total || ms > timeoutMs) return { ms, correct: n };
    await sleep(250);
  }
}
const joinedToPublic = async (users: readonly string[]) => {
  const sets =
    (await Promise.all(PUBLIC.map((k) => roomMembers(http.as(yard!.token), svcRooms[k]))))
      .map((m) => new Set(m));
  return users.filter((u) => sets.every((s) => s.has(u))).length;
};

log(`Synapse ${hs.url}; ${N} users, ${M} promotions; publish: ${publish}`);
let svc = await startService();
raw.startFreshListeningMs = svc.listeningMs;
raw.startFreshReadyMs = svc.readyMs;
raw.startFreshMtlsAcceptMs = svc.mtlsAcceptMs;
const svcRooms = (await status()).bootstrap.rooms as RoomIds;
raw.rssIdleMiB = await steadyRss(svc.pid);
const rssSplit: Record<string, { anon: number; file: number }> = {};
raw.rssSplit = rssSplit;
rssSplit.idle = await rssSplitMiB(svc.pid);

// ---- the floor: a bare Deno process with Hono, zod, node:https and an open KV ----------------
async function startFloor(pair: { cert: string; key: string }) {
  const kvDir = await Deno.makeTempDir({ dir: out, prefix: "floor-kv-" });
  const t0 = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-config",
      "--no-lock",
      ...v8,
      "--no-prompt",
      "--unstable-kv",
      "--allow-net",
      `--allow-read=${out}`,
      `--allow-write=${kvDir}`,
      "--allow-env=FLOOR_PORT,FLOOR_CERT,FLOOR_KEY,FLOOR_CA,FLOOR_KV",
      floorBundled,
    ],
    env: {
      FLOOR_PORT: String(floorPort),
      FLOOR_CERT: pair.cert,
      FLOOR_KEY: pair.key,
      FLOOR_CA: pki.caChain,
      FLOOR_KV: `${kvDir}/floor.kv`,
    },
    stdout: "null",
    stderr: "null",
  }).spawn();
  const acceptMs = await waitListening(floorPort, t0);
  return {
    pid: child.pid,
    acceptMs,
    stop: async () => {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

interface Measured extends Calls {
  /** The process's CPU time per answered call, ms. */
  readonly cpuMsPerCall: number;
  /** While it ran: the machine's busy share of all cores, and Synapse's CPU share of one. */
  readonly machineBusy: number;
  readonly synapseCpu: number | null;
  /** The share of wall time in which some runnable task waited for a CPU (PSI "some"). */
  readonly cpuWait: number | null;
}
async function measured(pid: number, run: () => Promise<Calls>): Promise<Measured> {
  const synapseCpu = () => cpuSeconds(hs.pid).catch(() => null);
  const [c0, s0, m0, t0] = [
    await cpuSeconds(pid),
    await synapseCpu(),
    await machineCpu(),
    Date.now(),
  ];
  const r = await run();
  const [c1, s1, m1, t1] = [
    await cpuSeconds(pid),
    await synapseCpu(),
    await machineCpu(),
    Date.now(),
  ];
  const wallS = (t1 - t0) / 1000;
  return {
    ...r,
    cpuMsPerCall: (c1 - c0) * 1000 / Math.max(1, r.ok),
    machineBusy: (m1.busyS - m0.busyS) / wallS / navigator.hardwareConcurrency,
    synapseCpu: s0 === null || s1 === null ? null : (s1 - s0) / wallS,
    cpuWait: m0.waitS === null || m1.waitS === null ? null : (m1.waitS - m0.waitS) / wallS,
  };
}
const openLoop = (pid: number, tls: Tls, names: readonly string[]) =>
  measured(
    pid,
    () => rmCalls(python, tls, names, { mode: "open", rate: ACK_RATE, count: ACK_CALLS }),
  );
/** Closed loops at 1, 4 and 16 calls in flight; the fastest, and all of them. */
async function maxRate(pid: number, tls: Tls, names: readonly string[]) {
  const all: Record<number, Measured> = {};
  for (const concurrency of [1, 4, 16]) {
    all[concurrency] = await measured(
      pid,
      () => rmCalls(python, tls, names, { mode: "closed", concurrency, count: MAX_RATE_CALLS }),
    );
  }
  const [c, best] = Object.entries(all).sort((a, b) => b[1].rps - a[1].rps)[0]!;
  return { concurrency: Number(c), best, all };
}
const errorsOf = (c: Calls) => c.count - c.ok;

log("floor yardstick: start-up, memory, acknowledgements");
const floorNames = Array.from({ length: 1000 }, (_, i) => `floor${i}`);
const floorStarts: number[] = [];
for (let i = 0; i < RESTARTS; i++) {
  const f = await startFloor(ecdsaPair);
  floorStarts.push(f.acceptMs);
  await f.stop();
}
let floor: Record<string, unknown>;
{
  const f = await startFloor(ecdsaPair);
  const rssIdle = await steadyRss(f.pid);
  rssSplit.floorIdle = await rssSplitMiB(f.pid);
  const ack = await openLoop(f.pid, tlsTo(floorPort, pki.caChain), floorNames);
  const curl = await curlCalls(tlsTo(floorPort, pki.caChain), floorNames, 100);
  const max = await maxRate(f.pid, tlsTo(floorPort, pki.caChain), floorNames);
  const rssAfter = await steadyRss(f.pid);
  rssSplit.floorAfter = await rssSplitMiB(f.pid);
  await f.stop();
  const r = await startFloor(rsaPair);
  const ackRsa = await openLoop(r.pid, tlsTo(floorPort, rsa.caCert), floorNames);
  const curlRsa = await curlCalls(tlsTo(floorPort, rsa.caCert), floorNames, 100);
  await r.stop();
  floor = {
    startsMs: floorStarts,
    warmStartMs: median(floorStarts.slice(1)),
    rssIdle,
    rssAfter,
    ack,
    curl,
    max,
    ackRsa,
    curlRsa,
  };
}
raw.floor = floor;
const fl = floor as {
  warmStartMs: number;
  rssIdle: number;
  rssAfter: number;
  ack: Measured;
  curl: CurlSplit;
  max: { concurrency: number; best: Measured };
  ackRsa: Measured;
  curlRsa: CurlSplit;
};

// ---- the yardstick's own deployment (a bot of its own, in-process) --------------------------
const kv = await Deno.openKv(":memory:");
const yard = await createBootstrap({
  http,
  store: createStore(kv),
  registrationSecret: hs.registrationSecret,
  botUsername: "yardbot",
  serverName: "bench.test",
  deployment: "yard",
  legacyTokenFile: "/nonexistent",
  readText: () => Promise.resolve(null),
  locks: createRoomLocks(),
  log: createLogger({ level: "error" }),
}).run(AbortSignal.timeout(120_000));
if (yard === null) throw new Error("yardstick bootstrap failed");

// ---- 1. enrolment burst ----------------------------------------------------------------------
log("registering users");
let sample = 0;
const calib = await bestConcurrency(
  http,
  yard.token,
  yard.rooms,
  (n) => register(`cal${sample++}x`, n),
);
raw.directConcurrency = calib;
const directUsers = await register("d", N);
const serviceUsers = await register("s", N);
const busyUsers = await register("b", BUSY);
const floorPromoted = await register("f", M);
log(`direct burst at concurrency ${calib.concurrency}`);
const directBurstPoints: Array<[number, number]> = [[0, 0]];
const tDirect0 = performance.now();
const directBurstMs = await directJoins(
  http,
  yard.token,
  yard.rooms,
  directUsers,
  calib.concurrency,
  (n) => {
    directBurstPoints.push([(performance.now() - tDirect0) / 1000, n / N]);
  },
);

log("service burst");
const burstC0 = await counters();
const burstPoints: Array<[number, number]> = [[0, 0]];
const tBurst0 = performance.now();
await submitAll("created", serviceUsers.map(localpart));
const burst = await untilConverged(
  tBurst0,
  N,
  () => joinedToPublic(serviceUsers),
  burstPoints,
  Math.max(600_000, directBurstMs * 5),
);
const serviceBurstMs = burst.ms;
const burstRequests = requestsBetween(burstC0, await counters());
raw.burst = {
  synapseRequests: burstRequests,
  serviceMs: serviceBurstMs,
  directMs: directBurstMs,
  joined: burst.correct,
};
raw.rssAfterBurstMiB = await steadyRss(svc.pid);
rssSplit.afterBurst = await rssSplitMiB(svc.pid);
raw.kvBytesAfterBurst = await sqliteBytes(kvPath);
rows.push({
  figure: `enrolment burst, ${thousands(N)} users → 4 rooms`,
  service: `${fmt(serviceBurstMs / 1000)} s, ${burst.correct}/${N} joined, ${
    thousands(total(burstRequests))
  } Synapse requests`,
  yardstick: `${fmt(directBurstMs / 1000)} s, ${
    thousands(4 * N)
  } requests (direct, ${calib.concurrency} at a time)`,
  ratio: serviceBurstMs / directBurstMs,
  goal: "≤ 1.10",
  pass: burst.correct === N && serviceBurstMs / directBurstMs <= 1.10,
});

// ---- 2. promotion storm ---------------------------------------------------------------------
log("direct promotions (sequential read-modify-write)");
const stormDirectPoints: Array<[number, number]> = [[0, 0]];
const tSd0 = performance.now();
const directStormMs = await directPromotions(
  http,
  yard.token,
  yard.rooms,
  directUsers.slice(0, M),
  (n) => {
    stormDirectPoints.push([(performance.now() - tSd0) / 1000, n / M]);
  },
);
log(`floor promotions (admin joins ${calib.concurrency} at a time + one write per room)`);
const floorStormMs = await floorPromotions(
  http,
  yard.token,
  yard.rooms,
  floorPromoted,
  calib.concurrency,
);
log("service promotion storm");
const stormC0 = await counters();
const promoted = serviceUsers.slice(0, M);
const stormPoints: Array<[number, number]> = [[0, 0]];
const tS0 = performance.now();
await submitAll("promoted", promoted.map(localpart));
const storm = await untilConverged(
  tS0,
  M,
  async () => {
    const levels = await Promise.all(PUBLIC.map((k) => levelsOf(svcRooms[k])));
    const admins = new Set(await roomMembers(http.as(yard.token), svcRooms.admin));
    return promoted.filter((u) =>
      admins.has(u) && levels.every((pl) => (pl?.users as Record<string, number>)[u] === 100)
    ).length;
  },
  stormPoints,
  300_000,
);
const serviceStormMs = storm.ms;
const stormRequests = requestsBetween(stormC0, await counters());
const correct = storm.correct;
const others = (await levelsOf(svcRooms.general))?.users as Record<string, number>;
raw.storm = {
  serviceMs: serviceStormMs,
  directMs: directStormMs,
  floorMs: floorStormMs,
  floorConcurrency: calib.concurrency,
  // The floor makes M admin joins, 4 reads and 4 writes of m.room.power_levels.
  synapseRequests: stormRequests,
  correct,
  usersInGeneralPl: Object.keys(others).length,
};
rows.push({
  figure: `promotion storm, ${M} admins`,
  service: `${fmt(serviceStormMs / 1000)} s, ${correct}/${M} correct`,
  yardstick: `${fmt(directStormMs / 1000)} s (sequential RMW)`,
  ratio: serviceStormMs / directStormMs,
  goal: "≤ 0.2, 100% correct",
  pass: correct === M && serviceStormMs / directStormMs <= 0.2,
});
rows.push({
  figure: `promotion storm, ${M} admins, against the physical floor`,
  service: `${fmt(serviceStormMs / 1000)} s, ${correct}/${M} correct, ${
    thousands(total(stormRequests))
  } Synapse requests`,
  yardstick:
    `${fmt(floorStormMs / 1000)} s, ${
      M + 8
    } requests (admin joins ${calib.concurrency} at a time + ` +
    `1 write per room)`,
  ratio: serviceStormMs / floorStormMs,
  goal: "≤ 1.10, 100% correct",
  pass: correct === M && serviceStormMs / floorStormMs <= 1.10,
});

// ---- 3. restarts with state: warm start-up ----------------------------------------------------
log(`${RESTARTS} restarts with existing state`);
const restarts: Array<Omit<Service, "child" | "pid">> = [];
for (let i = 0; i < RESTARTS; i++) {
  await stopService(svc);
  svc = await startService();
  const { listeningMs, mtlsAcceptMs, readyMs } = svc;
  restarts.push({ listeningMs, mtlsAcceptMs, readyMs });
}
raw.restarts = restarts;
raw.restartReadyMs = restarts[0]!.readyMs;
const warmAcceptMs = median(restarts.map((r) => r.mtlsAcceptMs));
raw.warmStartMtlsAcceptMs = warmAcceptMs;
await settle();

// ---- 4. waiting for first logins at constant cost --------------------------------------------
const waitingNames = Array.from({ length: WAITING }, (_, i) => `w${i}`);
async function waitingWindow(count: number) {
  const settleMs = await settle();
  const c0 = await counters();
  const cpu0 = await cpuSeconds(svc.pid);
  const rss: number[] = [];
  while (performance.now() - c0.at < WINDOW_MS) {
    rss.push(await rssMiB(svc.pid));
    await sleep(Math.min(5000, Math.max(0, WINDOW_MS - (performance.now() - c0.at))));
  }
  const c1 = await counters();
  const cpu1 = await cpuSeconds(svc.pid);
  const minutes = (c1.at - c0.at) / 60_000;
  const pending = (await status()).lifecycle.pending as number;
  const synapseBySeries = Object.fromEntries(
    [...c1.bySeries].map(([k, v]) => [k, v - (c0.bySeries.get(k) ?? 0)]).filter(([, d]) => d !== 0),
  );
  return {
    synapseBySeries,
    waiting: count,
    pending,
    settleMs,
    windowS: (c1.at - c0.at) / 1000,
    synapsePerMin: (c1.synapse - c0.synapse) / minutes,
    kvWritesPerMin: (c1.kv - c0.kv) / minutes,
    cpuSPerMin: (cpu1 - cpu0) / minutes,
    rssMiB: median(rss),
    rssMaxMiB: Math.max(...rss),
    rssMinMiB: Math.min(...rss),
    rssSplit: await rssSplitMiB(svc.pid),
    kvBytes: await sqliteBytes(kvPath),
  };
}
log(`${WAITING_FEW} people without a Matrix account: created, then ${WINDOW_MS / 1000} s`);
await submitAll("created", waitingNames.slice(0, WAITING_FEW));
const few = await waitingWindow(WAITING_FEW);
log(`${WAITING} people without a Matrix account: created, then ${WINDOW_MS / 1000} s`);
await submitAll("created", waitingNames.slice(WAITING_FEW));
const many = await waitingWindow(WAITING);
const loginName = waitingNames[Math.floor(WAITING / 2)]!;
log(`${loginName} logs in for the first time`);
const reg = await registerWithSharedSecret(http, hs.registrationSecret, {
  username: loginName,
  password: randomPassword(),
  admin: false,
});
if (reg.kind !== "registered") throw new Error(`cannot register ${loginName}: ${reg.kind}`);
const tLogin0 = performance.now();
let loginJoinMs = NaN;
while (performance.now() - tLogin0 < 120_000) {
  const rooms = new Set(await joinedRooms(http.as(yard.token), reg.userId));
  if (PUBLIC.every((k) => rooms.has(svcRooms[k]))) {
    loginJoinMs = performance.now() - tLogin0;
    break;
  }
  await sleep(100);
}
raw.waiting = { few, many, loginJoinMs, loginUser: reg.userId };
// Per person from the windows' lowest looks (just after a collection: what is retained).
const perPersonKiB = (many.rssMinMiB - few.rssMinMiB) * 1024 / Math.max(1, WAITING - WAITING_FEW);

// ---- 5. acknowledging RM: a new mTLS connection per call --------------------------------------
const ackNames = waitingNames.filter((n) => n !== loginName);
const ecdsaTls = tlsTo(mtlsPort, pki.caChain);
log(`acks: open loop, ${ACK_RATE}/s × ${ACK_CALLS}, Synapse up`);
const up = await openLoop(svc.pid, ecdsaTls, ackNames);
const upCurl = await curlCalls(ecdsaTls, ackNames, 100);
await settle();

log(`acks while converging a burst of ${BUSY}`);
const tBusy0 = performance.now();
const busyAcks = submitAll("created", busyUsers.map(localpart), 16);
const busy = await openLoop(svc.pid, ecdsaTls, ackNames);
await busyAcks;
const busyJoinedAtEnd = await joinedToPublic(busyUsers);
const busyLoopS = (performance.now() - tBusy0) / 1000;
while (await joinedToPublic(busyUsers) < BUSY && performance.now() - tBusy0 < 900_000) {
  await sleep(1000);
}
const busyConvergedS = (performance.now() - tBusy0) / 1000;
await settle();

log("acks: closed loops (maximum rate)");
const upMax = await maxRate(svc.pid, ecdsaTls, ackNames);
await settle();

log("acks with Synapse stopped (SIGSTOP)");
Deno.kill(hs.pid, "SIGSTOP");
let stopped: Measured;
try {
  stopped = await openLoop(svc.pid, ecdsaTls, ackNames);
} finally {
  Deno.kill(hs.pid, "SIGCONT");
}

log("acks with an RSA-4096 server key");
await stopService(svc);
svc = await startService(rsaPair);
restarts.push({
  listeningMs: svc.listeningMs,
  mtlsAcceptMs: svc.mtlsAcceptMs,
  readyMs: svc.readyMs,
});
await settle();
const rsaTls = tlsTo(mtlsPort, rsa.caCert);
// A restarted process runs cold code: warm it as the other variants are (2 s of calls).
await rmCalls(python, rsaTls, ackNames, { mode: "open", rate: ACK_RATE, count: 2 * ACK_RATE });
await settle();
const rsaUp = await openLoop(svc.pid, rsaTls, ackNames);
const rsaCurl = await curlCalls(rsaTls, ackNames, 100);
const rsaMax = await maxRate(svc.pid, rsaTls, ackNames);
await stopService(svc);
svc = await startService();
restarts.push({
  listeningMs: svc.listeningMs,
  mtlsAcceptMs: svc.mtlsAcceptMs,
  readyMs: svc.readyMs,
});
await settle();

// Deno's own client over 50 keep-alive connections (the figure of earlier runs).
async function ackLatency(label: string): Promise<{ p50: number; p99: number; rps: number }> {
  const lat: number[] = [];
  const t0 = performance.now();
  let i = 0;
  await Promise.all(Array.from({ length: 50 }, async () => {
    while (i < 2000) {
      const u = serviceUsers[i++ % serviceUsers.length]!;
      const s = performance.now();
      const status = await callback("created", localpart(u));
      if (status !== 200) throw new Error(`${label}: HTTP ${status}`);
      lat.push(performance.now() - s);
    }
  }));
  const wall = performance.now() - t0;
  return {
    p50: percentile(lat, 0.5),
    p99: percentile(lat, 0.99),
    rps: (lat.length / wall) * 1000,
  };
}
log("ack latency, Deno client, Synapse up");
const denoUp = await ackLatency("up");
await sleep(3000);
log("acks with Synapse killed (SIGKILL)");
Deno.kill(hs.pid, "SIGKILL");
await hs.exited;
const killed = await openLoop(svc.pid, ecdsaTls, ackNames);
log("ack latency, Deno client, Synapse down");
const denoDown = await ackLatency("down");
await hs.stop();
raw.ack = {
  // Deno's client over keep-alive connections: the figures of earlier runs, under their keys.
  up: denoUp,
  down: denoDown,
  rmUp: up,
  upCurl,
  busy: { ...busy, busyUsers: BUSY, joinedAtLoopEnd: busyJoinedAtEnd, busyLoopS, busyConvergedS },
  upMax,
  stopped,
  rsa: { up: rsaUp, curl: rsaCurl, max: rsaMax },
  killed,
};
raw.rssAtEndMiB = await steadyRss(svc.pid);
rssSplit.end = await rssSplitMiB(svc.pid);
raw.kvBytesAtEnd = await sqliteBytes(kvPath);
const callbacksTotal = metricSum(
  await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text(),
  "matrixrmapi_callbacks_total",
);
raw.callbacksTotal = callbacksTotal;

// ---- the table --------------------------------------------------------------------------------
const ACK_GOAL = "p99 ≤ 25 ms, no errors";
const ackPass = (c: Calls) => c.p99 <= 25 && errorsOf(c) === 0;
const pct = (x: number | null) => x === null ? "–" : `${Math.round(x * 100)}%`;
const ackCell = (c: Measured) =>
  `${fmt(c.p50)} / ${fmt(c.p99)} ms, ${errorsOf(c)} errors; ${fmt(c.cpuMsPerCall)} ms CPU/call, ` +
  `machine ${pct(c.machineBusy)} busy, Synapse ${pct(c.synapseCpu)} of a core`;
const label = (what: string) =>
  `ack p50 / p99, ${ACK_RATE}/s × ${thousands(ACK_CALLS)}, new mTLS connection each, ${what}`;
rows.push({
  figure: label("Synapse up"),
  service: ackCell(up),
  yardstick: `floor: ${fmt(fl.ack.p50)} / ${fmt(fl.ack.p99)} ms, ${
    fmt(fl.ack.cpuMsPerCall)
  } ms CPU`,
  ratio: up.p99 / fl.ack.p99,
  goal: ACK_GOAL,
  pass: ackPass(up),
});
for (
  const [what, c] of [
    [`busy converging a burst of ${BUSY} (${busyJoinedAtEnd}/${BUSY} joined at the end)`, busy],
    ["Synapse stopped (SIGSTOP)", stopped],
    ["Synapse killed (SIGKILL)", killed],
  ] as const
) {
  rows.push({
    figure: label(what),
    service: ackCell(c),
    yardstick: `Synapse up: p99 ${fmt(up.p99)} ms`,
    ratio: c.p99 / up.p99,
    goal: `${ACK_GOAL}; ≈ Synapse up`,
    pass: ackPass(c),
  });
}
rows.push({
  figure: label("RSA-4096 server key"),
  service: ackCell(rsaUp),
  yardstick: `floor, RSA-4096: ${fmt(fl.ackRsa.p50)} / ${fmt(fl.ackRsa.p99)} ms, ` +
    `${fmt(fl.ackRsa.cpuMsPerCall)} ms CPU`,
  ratio: rsaUp.p99 / fl.ackRsa.p99,
  goal: ACK_GOAL,
  pass: ackPass(rsaUp),
});
const maxCell = (m: { concurrency: number; best: Measured }) =>
  `${fmt(m.best.rps, 0)}/s at ${m.concurrency} in flight, p99 ${fmt(m.best.p99)} ms, ` +
  `${errorsOf(m.best)} errors`;
rows.push({
  figure: "ack closed-loop maximum, new mTLS connection each (ECDSA / RSA-4096 key)",
  service: `${maxCell(upMax)} / ${maxCell(rsaMax)}`,
  yardstick: `floor (ECDSA): ${maxCell(fl.max)}`,
  ratio: upMax.best.rps / fl.max.best.rps,
  goal: "–",
  pass: null,
});
const split = (c: CurlSplit) =>
  `${fmt(c.handshakeP50)} + ${fmt(c.answerP50)} ms (p99 ${fmt(c.handshakeP99)} + ${
    fmt(c.answerP99)
  })`;
rows.push({
  figure: "one call with curl, one after another: TLS handshake + answer, p50 (ECDSA / RSA-4096)",
  service: `${split(upCurl)} / ${split(rsaCurl)}`,
  yardstick: `floor: ${split(fl.curl)} / ${split(fl.curlRsa)}`,
  ratio: null,
  goal: "–",
  pass: null,
});
rows.push({
  figure: "ack latency p50 / p99, Deno client, 50 keep-alive connections, Synapse up",
  service: `${fmt(denoUp.p50)} / ${fmt(denoUp.p99)} ms, ${fmt(denoUp.rps, 0)} req/s`,
  yardstick: "–",
  ratio: null,
  goal: "–",
  pass: null,
});
rows.push({
  figure: "ack latency p50 / p99, Deno client, Synapse down (killed)",
  service: `${fmt(denoDown.p50)} / ${fmt(denoDown.p99)} ms, ${fmt(denoDown.rps, 0)} req/s`,
  yardstick: `Synapse up: p99 ${fmt(denoUp.p99)} ms`,
  ratio: denoDown.p99 / denoUp.p99,
  goal: "independent of Synapse",
  pass: null,
});
const costCell = (w: typeof few) =>
  `${fmt(w.synapsePerMin)} / ${fmt(w.kvWritesPerMin)} per min (${fmt(w.cpuSPerMin, 2)} s CPU/min)`;
rows.push({
  figure: `waiting for first logins: Synapse requests / KV writes, ${
    thousands(WAITING_FEW)
  } waiting`,
  service: costCell(few),
  yardstick: "–",
  ratio: null,
  goal: "≤ 12 each",
  pass: few.synapsePerMin <= 12 && few.kvWritesPerMin <= 12,
});
rows.push({
  figure: `waiting for first logins: Synapse requests / KV writes, ${thousands(WAITING)} waiting`,
  service: costCell(many),
  yardstick: `${thousands(WAITING_FEW)} waiting: ${fmt(few.synapsePerMin)} / ${
    fmt(few.kvWritesPerMin)
  }`,
  ratio: many.synapsePerMin / Math.max(1e-9, few.synapsePerMin),
  goal: "≤ 12 each, independent of the number",
  pass: many.synapsePerMin <= 12 && many.kvWritesPerMin <= 12,
});
rows.push({
  figure: `first login → joined to the 4 public rooms (${thousands(WAITING)} waiting)`,
  service: `${fmt(loginJoinMs / 1000)} s`,
  yardstick: "–",
  ratio: null,
  goal: "≤ 10 s",
  pass: loginJoinMs <= 10_000,
});
const rssIdle = raw.rssIdleMiB as number;
const parts = (p: { anon: number; file: number }) =>
  `anon ${fmt(p.anon, 0)} + file ${fmt(p.file, 0)}`;
rows.push({
  figure: "resident memory idle (fresh start)",
  service: `${fmt(rssIdle, 0)} MiB (${parts(rssSplit.idle!)})`,
  yardstick: `floor: ${fmt(fl.rssIdle, 0)} MiB (${parts(rssSplit.floorIdle!)})`,
  ratio: rssIdle / fl.rssIdle,
  goal: "≤ 60 MiB",
  pass: rssIdle <= 60,
});
const memRow = (figure: string, mib: number, split: { anon: number; file: number }) =>
  rows.push({
    figure,
    service: `${fmt(mib, 0)} MiB (${parts(split)})`,
    yardstick: `floor after ${thousands(ACK_CALLS + 3 * MAX_RATE_CALLS + 100)} calls: ${
      fmt(fl.rssAfter, 0)
    } MiB`,
    ratio: mib / fl.rssAfter,
    goal: "≤ 90 MiB",
    pass: mib <= 90,
  });
memRow(
  `resident memory after the burst of ${thousands(N)}`,
  raw.rssAfterBurstMiB as number,
  rssSplit.afterBurst!,
);
memRow(`resident memory with ${thousands(WAITING)} waiting`, many.rssMiB, many.rssSplit);
memRow(
  `resident memory at the end (${thousands(callbacksTotal)} callbacks since the last start)`,
  raw.rssAtEndMiB as number,
  rssSplit.end!,
);
rows.push({
  figure: `memory per waiting person (${thousands(WAITING_FEW)} → ${thousands(WAITING)} waiting)`,
  service: `${fmt(many.rssMinMiB - few.rssMinMiB)} MiB, ${fmt(perPersonKiB)} KiB/person ` +
    `(lowest look of each window)`,
  yardstick: "–",
  ratio: null,
  goal: `flat: ≤ 5 MiB for ${thousands(WAITING - WAITING_FEW)} more`,
  pass: many.rssMinMiB - few.rssMinMiB <= 5,
});
rows.push({
  figure: `start-up: process → mTLS port listening (warm, median of ${RESTARTS} restarts)`,
  service: `${fmt(warmAcceptMs, 0)} ms`,
  yardstick: `floor: ${fmt(fl.warmStartMs, 0)} ms`,
  ratio: warmAcceptMs / fl.warmStartMs,
  goal: "≤ 150 ms",
  pass: warmAcceptMs <= 150,
});
rows.push({
  figure: "start-up: process → listening / → ready (fresh)",
  service: `${Math.round(raw.startFreshListeningMs as number)} ms / ${
    Math.round(raw.startFreshReadyMs as number)
  } ms`,
  yardstick: "–",
  ratio: null,
  goal: "–",
  pass: null,
});
rows.push({
  figure: "restart with existing state → ready",
  service: `${Math.round(raw.restartReadyMs as number)} ms`,
  yardstick: "–",
  ratio: null,
  goal: "–",
  pass: null,
});
const mb = (b: number) => `${fmt(b / 1e6)} MB`;
rows.push({
  figure: "KV file with -wal/-shm: after the burst / with the waiting / at the end",
  service: `${mb(raw.kvBytesAfterBurst as number)} / ${mb(many.kvBytes)} / ${
    mb(raw.kvBytesAtEnd as number)
  }`,
  yardstick: "–",
  ratio: null,
  goal: "–",
  pass: null,
});
const bundleBytes = (await Deno.stat(bundled)).size;
raw.bundleBytes = bundleBytes;
rows.push({
  figure: "bundle size (compiled executable: needs DENORT_BIN)",
  service: `${fmt(bundleBytes / 1e6, 2)} MB`,
  yardstick: "–",
  ratio: null,
  goal: "–",
  pass: null,
});

await stopService(svc);
client.close();
kv.close();

const cpu = (await Deno.readTextFile("/proc/cpuinfo")).match(/model name\s*:\s*(.*)/)?.[1] ??
  "unknown CPU";
const machine =
  `${navigator.hardwareConcurrency} cores, ${cpu}, Deno ${Deno.version.deno}, Synapse from tools/synapse`;
raw.machine = machine;
raw.rows = rows;
const table = markdownTable(rows);
const svg = convergenceSvg(
  `Convergence: ${N}-user burst and ${M}-admin storm (${raw.date as string})`,
  [
    { label: "service burst", color: "#1f77b4", points: burstPoints },
    { label: "direct burst", color: "#aec7e8", points: directBurstPoints },
    { label: "service storm", color: "#d62728", points: stormPoints },
    { label: "direct storm", color: "#ff9896", points: stormDirectPoints },
  ],
);
const notes =
  `RM's client is simulated with aiohttp ${
    (await Deno.readTextFile(new URL("requirements.txt", import.meta.url))).match(/aiohttp==(\S+)/)
      ?.[1]
  } (a fresh session, so a new TCP connection and a full TLS handshake, per call; latency from the ` +
  `call's scheduled start to its answer); "floor" is a bare Deno process with Hono, zod, ` +
  `node:https and an open KV doing one KV commit per call (tools/bench/floor.ts). ` +
  `Waiting people: \`created\` for people without a Matrix account, then, once the service ` +
  `has settled, ${WINDOW_MS / 1000} s of /metrics. Memory is VmRSS.`;
await Deno.writeTextFile(`${out}/results.json`, JSON.stringify(raw, null, 2));
await Deno.writeTextFile(`${out}/results.md`, table);
await Deno.writeTextFile(`${out}/convergence.svg`, svg);
const heading = (what: string) =>
  `${what}: ${raw.date as string}, ${machine}; ${thousands(N)} users, ${M} promotions.`;
if (publish === "latest" || publish === "scale") {
  const name = publish === "latest" ? "latest" : `scale-${N}`;
  await Deno.mkdir(`${root}docs/bench`, { recursive: true });
  await Deno.writeTextFile(`${root}docs/bench/${name}.json`, JSON.stringify(raw, null, 2));
  // The page says which run it is, and the latest shows its plot.
  const title = heading(publish === "latest" ? "Latest run" : `Scale run (BENCH_USERS=${N})`);
  const plot = publish === "latest" ? "\n![convergence over time](convergence.svg)\n" : "";
  await Deno.writeTextFile(
    `${root}docs/bench/${name}.md`,
    `${title}\n\n${table}\n${notes}\n${plot}`,
  );
  if (publish === "latest") await Deno.writeTextFile(`${root}docs/bench/convergence.svg`, svg);
  // `deno fmt --check` is part of `deno task ok`: leave what was written formatted.
  await new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--quiet", "docs/bench/"],
    cwd: root,
  }).output();
}
console.log(table);
log(`results in ${out}${publish === "none" ? "" : " and docs/bench/"}`);
Deno.exit(0);
