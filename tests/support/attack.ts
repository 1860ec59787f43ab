/**
 * @module Clients for availability tests, over node:net / node:tls because they can bind a
 * source address (`localAddress`; `Deno.connect` cannot): RM's callbacks, one new mTLS connection
 * each, and attackers that hold connections open — idle, or sending a byte a second. Each
 * attacker records when it opened and when the server closed it. Every loop ends by itself.
 */
import https from "node:https";
import net from "node:net";
import tls from "node:tls";

export interface Credentials {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

/** Reads the CA chain and one pair of the dev PKI. */
export async function credentials(
  caPath: string,
  certPath: string,
  keyPath: string,
): Promise<Credentials> {
  const [ca, cert, key] = await Promise.all(
    [caPath, certPath, keyPath].map((p) => Deno.readTextFile(p)),
  );
  return { ca: ca!, cert: cert!, key: key! };
}

/** An answer and how long it took from the start of the connection (0 = no answer). */
export interface Answer {
  readonly status: number;
  readonly body: string;
  readonly ms: number;
}

/** POSTs `body` over a new mTLS connection from `localAddress`, as RM makes its callbacks. */
export function callOnce(
  o: { port: number; path: string; body: unknown; from: string; creds: Credentials },
): Promise<Answer> {
  const started = performance.now();
  const payload = JSON.stringify(o.body);
  return new Promise((resolve) => {
    const done = (status: number, body: string) =>
      resolve({ status, body, ms: performance.now() - started });
    const req = https.request({
      host: "127.0.0.1",
      servername: "localhost",
      port: o.port,
      method: "POST",
      path: o.path,
      localAddress: o.from,
      agent: false, // a new connection (and handshake) per callback, as RM makes them
      ca: o.creds.ca,
      cert: o.creds.cert,
      key: o.creds.key,
      headers: { "content-type": "application/json", "content-length": payload.length },
      timeout: 20_000,
    }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => done(res.statusCode ?? 0, text));
      res.on("error", (err) => done(0, String(err)));
    });
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", (err) => done(0, String(err)));
    req.end(payload);
  });
}

export type AttackKind = "idle-tcp" | "idle-tls" | "slow-head" | "slow-body";

/** One attacking connection. `closedAt` is set when the server closed it (ms since opened). */
export interface Attacker {
  readonly kind: AttackKind;
  readonly listener: "plain" | "mtls";
  readonly from: string;
  readonly openedAt: number;
  closedAfter: number | null;
  /** Whether the server ever let it through the TLS handshake. */
  secured: boolean;
  /** Connected (TCP), or through the TLS handshake, or closed: the server has dealt with it. */
  settled: boolean;
  readonly socket: net.Socket;
}

const HEAD = "GET /api/v1/healthcheck HTTP/1.1\r\nHost: localhost\r\n";
const BODY_HEAD = "PUT /api/v1/users/updated HTTP/1.1\r\nHost: localhost\r\n" +
  "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{";

/** Opens one attacking connection; TLS ones present `creds` (a person's certificate). */
export function attack(
  o: {
    kind: AttackKind;
    listener: "plain" | "mtls";
    port: number;
    from: string;
    creds: Credentials;
  },
): Attacker {
  const useTls = o.listener === "mtls" && o.kind !== "idle-tcp";
  const socket = useTls
    ? tls.connect({
      host: "127.0.0.1",
      servername: "localhost",
      port: o.port,
      localAddress: o.from, // passed on to net.connect (not in @types/node's TLS options)
      ...o.creds,
    } as tls.ConnectionOptions)
    : net.connect({ host: "127.0.0.1", port: o.port, localAddress: o.from });
  const a: Attacker = {
    kind: o.kind,
    listener: o.listener,
    from: o.from,
    openedAt: performance.now(),
    closedAfter: null,
    secured: false,
    settled: false,
    socket,
  };
  socket.on("error", () => {});
  socket.on("data", () => {}); // a 408 or 400 is read and dropped
  socket.once("close", () => {
    a.closedAfter = performance.now() - a.openedAt;
    a.settled = true;
  });
  const start = () => {
    a.secured = useTls;
    a.settled = true;
    if (o.kind === "slow-head") socket.write(HEAD);
    if (o.kind === "slow-body") socket.write(BODY_HEAD);
  };
  socket.once(useTls ? "secureConnect" : "connect", start);
  return a;
}

/** Every second, one more byte (a header line or a body byte) on each open slow attacker. */
export function dripEverySecond(attackers: readonly Attacker[]): () => void {
  const timer = setInterval(() => {
    for (const a of attackers) {
      // Not before its head is out (a byte ahead of it would be a 400, not a slow client).
      if (!a.settled || a.closedAfter !== null || a.socket.destroyed) continue;
      if (a.kind === "slow-head") a.socket.write("X: 1\r\n");
      if (a.kind === "slow-body") a.socket.write(" ");
    }
  }, 1000);
  return () => clearInterval(timer);
}

/** The process's resident memory (MiB) and open file descriptors, from /proc. */
export async function footprint(pid: number): Promise<{ rssMiB: number; fds: number }> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? "0");
  let fds = 0;
  for await (const _ of Deno.readDir(`/proc/${pid}/fd`)) fds++;
  return { rssMiB: kb / 1024, fds };
}

/** The p-th percentile (0–100) of `values`. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}
