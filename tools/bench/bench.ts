// deno-lint-ignore-file no-console
/**
 * @module `deno task bench`: the service as a process under its production permission set,
 * against a real Synapse, called by a simulated RM over mTLS — every figure a ratio against a
 * yardstick measured side by side in the same run. Writes `.local/bench/` and `docs/bench/`.
 */
import { createPowerLevelWriter } from "../../src/rooms/power_levels.ts";
import { startHomeserver } from "../synapse/homeserver.ts";
import { writeDevPki } from "../dev/pki.ts";
import { servicePermissions } from "../permissions.ts";
import { bundle } from "../bundle.ts";
import { createSynapseHttp } from "../../src/synapse/http.ts";
import { randomPassword, registerWithSharedSecret } from "../../src/synapse/registration.ts";
import { roomMembers } from "../../src/synapse/membership.ts";
import { roomState } from "../../src/synapse/rooms.ts";
import { createBootstrap } from "../../src/bootstrap/bootstrap.ts";
import { createStore } from "../../src/store/store.ts";
import { createLogger } from "../../src/log/logger.ts";
import type { RoomIds } from "../../src/matrix/deployment.ts";
import { bestConcurrency, directJoins, directPromotions } from "./yardstick.ts";
import { convergenceSvg, markdownTable, type Row } from "./report.ts";

const root = new URL("../../", import.meta.url).pathname;
const N = Number(Deno.env.get("BENCH_USERS") ?? 300);
const M = Math.min(N, Number(Deno.env.get("BENCH_PROMOTIONS") ?? 100));
const out = `${root}.local/bench/${new Date().toISOString().replace(/[:.]/g, "-")}`;
await Deno.mkdir(out, { recursive: true });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (m: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${m}`);
const PUBLIC = ["space", "general", "helpdesk", "offtopic"] as const;

const hs = await startHomeserver({ serverName: "bench.test", dir: `${out}/synapse` });
const http = createSynapseHttp({ baseUrl: hs.url, timeoutMs: 60_000 });
const raw: Record<string, unknown> = { date: new Date().toISOString(), users: N, promotions: M };
const rows: Row[] = [];

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

// ---- the service, as a process -------------------------------------------------------------
const pki = await writeDevPki(`${out}/pki`);
await Deno.writeTextFile(
  `${out}/manifest.json`,
  JSON.stringify({
    deployment: "svc",
    rasenmaeher: { certcn: "rasenmaeher" },
    product: { dns: "matrix.bench.test" },
  }),
);
const httpPort = 18012, mtlsPort = 14625;
const env: Record<string, string> = {
  SYNAPSE_URL: hs.url,
  SYNAPSE_REGISTRATION_SECRET: hs.registrationSecret,
  SERVER_DOMAIN: "bench.test",
  KRAFTWERK_MANIFEST: `${out}/manifest.json`,
  PERSISTENT_DATA_PATH: `${out}/data`,
  MTLS_SERVER_CERT_PATH: pki.serverCert,
  MTLS_SERVER_KEY_PATH: pki.serverKey,
  LOCAL_CA_CERTS_PATH: pki.caDir,
  MTLS_PORT: String(mtlsPort),
  HTTP_PORT: String(httpPort),
  BIND_HOST: "127.0.0.1",
  LOG_LEVEL: "WARNING",
};
const bundled = await bundle(`${out}/matrixrmapi.js`);

async function startService(): Promise<
  { child: Deno.ChildProcess; listeningMs: number; readyMs: number }
> {
  const t0 = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-config", "--no-lock", ...servicePermissions(env), bundled, "serve"],
    env,
    stdout: "null",
    stderr: "null",
  }).spawn();
  let listeningMs = -1;
  for (;;) {
    const res = await fetch(`http://127.0.0.1:${httpPort}/api/v1/status`).catch(() => null);
    if (res !== null) {
      const body = await res.json();
      if (listeningMs < 0) listeningMs = performance.now() - t0;
      if (body.bootstrap.phase === "ready") {
        return { child, listeningMs, readyMs: performance.now() - t0 };
      }
    }
    await sleep(10);
  }
}
// The admin state API: the yardstick's bot is not a member of the service's rooms.
const levelsOf = async (roomId: string) =>
  (await roomState(http.as(yard!.token), roomId)).find((e) => e.type === "m.room.power_levels")
    ?.content;
const rss = async (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(await Deno.readTextFile(`/proc/${pid}/status`))?.[1] ?? 0) / 1024;

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

log(`Synapse ${hs.url}; ${N} users, ${M} promotions`);
let svc = await startService();
raw.startFreshListeningMs = svc.listeningMs;
raw.startFreshReadyMs = svc.readyMs;
const svcRooms = (await (await fetch(`http://127.0.0.1:${httpPort}/api/v1/status`)).json())
  .bootstrap.rooms as RoomIds;
raw.rssIdleMiB = await rss(svc.child.pid);

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
  levels: createPowerLevelWriter(http.as(null)), // only its turn in the queue (`exclusive`)
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
const serviceSet = new Set(serviceUsers);
const burstPoints: Array<[number, number]> = [[0, 0]];
const tBurst0 = performance.now();
const acks = Promise.all(serviceUsers.map((u) => callback("created", u.slice(1, u.indexOf(":")))));
let serviceBurstMs = 0;
for (;;) {
  const members = await Promise.all(
    PUBLIC.map((k) => roomMembers(http.as(yard.token), svcRooms[k])),
  );
  const sets = members.map((m) => new Set(m));
  const joined = serviceUsers.filter((u) => sets.every((s) => s.has(u))).length;
  burstPoints.push([(performance.now() - tBurst0) / 1000, joined / N]);
  if (joined === serviceSet.size) {
    serviceBurstMs = performance.now() - tBurst0;
    break;
  }
  await sleep(100);
}
const ackStatuses = await acks;
raw.burst = {
  serviceMs: serviceBurstMs,
  directMs: directBurstMs,
  acks200: ackStatuses.filter((s) => s === 200).length,
};
raw.rssAfterBurstMiB = await rss(svc.child.pid);
rows.push({
  figure: `enrolment burst, ${N} users → 4 rooms`,
  service: `${(serviceBurstMs / 1000).toFixed(1)} s`,
  yardstick: `${(directBurstMs / 1000).toFixed(1)} s (direct, ${calib.concurrency} at a time)`,
  ratio: serviceBurstMs / directBurstMs,
  goal: "≤ 1.10",
  pass: serviceBurstMs / directBurstMs <= 1.10,
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
log("service promotion storm");
const promoted = serviceUsers.slice(0, M);
const stormPoints: Array<[number, number]> = [[0, 0]];
const tS0 = performance.now();
const stormAcks = Promise.all(
  promoted.map((u) => callback("promoted", u.slice(1, u.indexOf(":")))),
);
let serviceStormMs = 0;
let correct = 0;
for (;;) {
  const levels = await Promise.all(
    PUBLIC.map((k) => levelsOf(svcRooms[k])),
  );
  const admins = new Set(await roomMembers(http.as(yard.token), svcRooms.admin));
  correct = promoted.filter((u) =>
    admins.has(u) && levels.every((pl) =>
      (pl?.users as Record<string, number>)[u] === 100
    )
  ).length;
  stormPoints.push([(performance.now() - tS0) / 1000, correct / M]);
  if (correct === M) {
    serviceStormMs = performance.now() - tS0;
    break;
  }
  if (performance.now() - tS0 > 300_000) break;
  await sleep(100);
}
await stormAcks;
const others = (await levelsOf(svcRooms.general))
  ?.users as Record<string, number>;
raw.storm = {
  serviceMs: serviceStormMs,
  directMs: directStormMs,
  correct,
  usersInGeneralPl: Object.keys(others).length,
};
rows.push({
  figure: `promotion storm, ${M} admins`,
  service: `${(serviceStormMs / 1000).toFixed(1)} s, ${correct}/${M} correct`,
  yardstick: `${(directStormMs / 1000).toFixed(1)} s (sequential RMW)`,
  ratio: serviceStormMs / directStormMs,
  goal: "≤ 0.2, 100% correct",
  pass: correct === M && serviceStormMs / directStormMs <= 0.2,
});

// ---- 4. restart with state ------------------------------------------------------------------
svc.child.kill("SIGTERM");
await svc.child.status;
svc = await startService();
raw.restartReadyMs = svc.readyMs;
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
  service: `${Math.round(svc.readyMs)} ms`,
  yardstick: "–",
  ratio: null,
  goal: "–",
  pass: null,
});

// ---- 3. acknowledgement latency ---------------------------------------------------------------
async function ackLatency(label: string): Promise<{ p50: number; p99: number; rps: number }> {
  const lat: number[] = [];
  const t0 = performance.now();
  let i = 0;
  await Promise.all(Array.from({ length: 50 }, async () => {
    while (i < 2000) {
      const u = serviceUsers[i++ % serviceUsers.length]!;
      const s = performance.now();
      const status = await callback("created", u.slice(1, u.indexOf(":")));
      if (status !== 200) throw new Error(`${label}: HTTP ${status}`);
      lat.push(performance.now() - s);
    }
  }));
  const wall = performance.now() - t0;
  lat.sort((a, b) => a - b);
  return {
    p50: lat[Math.floor(lat.length * 0.5)]!,
    p99: lat[Math.floor(lat.length * 0.99)]!,
    rps: (lat.length / wall) * 1000,
  };
}
log("ack latency, Synapse up");
const up = await ackLatency("up");
await sleep(3000);
log("ack latency, Synapse down");
await hs.stop();
const down = await ackLatency("down");
raw.ack = { up, down };
rows.push({
  figure: "ack latency p50 / p99, 50 mTLS connections, Synapse up",
  service: `${up.p50.toFixed(1)} / ${up.p99.toFixed(1)} ms, ${up.rps.toFixed(0)} req/s`,
  yardstick: "–",
  ratio: null,
  goal: "–",
  pass: null,
});
rows.push({
  figure: "ack latency p50 / p99, Synapse down",
  service: `${down.p50.toFixed(1)} / ${down.p99.toFixed(1)} ms, ${down.rps.toFixed(0)} req/s`,
  yardstick: `Synapse up: p99 ${up.p99.toFixed(1)} ms`,
  ratio: down.p99 / up.p99,
  goal: "independent of Synapse",
  pass: null,
});

// ---- 5. footprint -----------------------------------------------------------------------------
const bundleBytes = (await Deno.stat(bundled)).size;
raw.bundleBytes = bundleBytes;
rows.push({
  figure: "resident memory idle / after the burst",
  service: `${(raw.rssIdleMiB as number).toFixed(0)} / ${
    (raw.rssAfterBurstMiB as number).toFixed(0)
  } MiB`,
  yardstick: "–",
  ratio: null,
  goal: "–",
  pass: null,
});
rows.push({
  figure: "bundle size (compiled executable: needs DENORT_BIN)",
  service: `${(bundleBytes / 1e6).toFixed(2)} MB`,
  yardstick: "–",
  ratio: null,
  goal: "–",
  pass: null,
});

svc.child.kill("SIGTERM");
await svc.child.status;
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
await Deno.writeTextFile(`${out}/results.json`, JSON.stringify(raw, null, 2));
await Deno.writeTextFile(`${out}/results.md`, table);
await Deno.writeTextFile(`${out}/convergence.svg`, svg);
await Deno.mkdir(`${root}docs/bench`, { recursive: true });
await Deno.writeTextFile(`${root}docs/bench/convergence.svg`, svg);
await Deno.writeTextFile(
  `${root}docs/bench/latest.md`,
  `Run ${raw.date as string} on ${machine}.\n\n${table}`,
);
await Deno.writeTextFile(`${root}docs/bench/latest.json`, JSON.stringify(raw, null, 2));
// The README shows the latest run between its bench markers.
const readme = await Deno.readTextFile(`${root}README.md`);
const marked = /<!-- bench:start -->[\s\S]*<!-- bench:end -->/;
if (marked.test(readme)) {
  await Deno.writeTextFile(
    `${root}README.md`,
    readme.replace(
      marked,
      `<!-- bench:start -->\nLatest run: ${raw
        .date as string}, ${machine}; ${N} users, ${M} promotions.\n\n` +
        `${table}\n![convergence over time](docs/bench/convergence.svg)\n<!-- bench:end -->`,
    ),
  );
}
console.log(table);
log(`results in ${out} and docs/bench/`);
Deno.exit(0);
