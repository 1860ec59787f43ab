/**
 * @module RM as the service meets it, measured with OpenSSL-based clients (Deno's own TLS client
 * adds 40–60 ms per new connection, which would measure the client): `rm_client.py`, aiohttp
 * with a fresh session per call as Rasenmaeher does, from a pinned venv; and `curl`, one process
 * and one connection per call, whose timings split a call into handshake and answer.
 */
import { percentile } from "./probe.ts";

const here = (rel: string) => decodeURIComponent(new URL(rel, import.meta.url).pathname);

/** Makes `<root>/.local/bench-venv` hold exactly `requirements.txt`; returns its python. */
export async function ensureClient(root: string): Promise<string> {
  const venv = `${root}.local/bench-venv`;
  const python = `${venv}/bin/python`;
  const want = await Deno.readTextFile(here("requirements.txt"));
  const marker = `${venv}/.bench-requirements.txt`;
  if (
    await Deno.readTextFile(marker).catch(() => "") === want &&
    await Deno.stat(python).then(() => true, () => false)
  ) return python;
  const base = Deno.env.get("PYTHON") ?? "python3";
  const steps = [
    [base, "-m", "venv", "--clear", venv],
    [python, ..."-m pip install --quiet --disable-pip-version-check --no-input".split(" ")]
      .concat(["--only-binary", ":all:", "-r", here("requirements.txt")]),
  ];
  for (const [cmd, ...args] of steps) {
    const out = await new Deno.Command(cmd!, { args, stdin: "null" }).output();
    if (!out.success) {
      throw new Error(`${cmd} ${args.join(" ")} failed:\n${new TextDecoder().decode(out.stderr)}`);
    }
  }
  await Deno.writeTextFile(marker, want);
  return python;
}

export interface Tls {
  readonly url: string;
  readonly cert: string;
  readonly key: string;
  readonly cacert: string;
}

export type Load =
  | { readonly mode: "open"; readonly rate: number; readonly count: number }
  | { readonly mode: "closed"; readonly concurrency: number; readonly count: number };

export interface Calls {
  readonly count: number;
  readonly ok: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly errors: Record<string, number>;
  /** Answered calls per second of wall time. */
  readonly rps: number;
  readonly wallS: number;
  readonly clientCpuS: number;
  /** How late the open loop started calls (p99 and max): the client's own health. */
  readonly lagP99Ms: number;
  readonly lagMaxMs: number;
}

/** Runs `load` with aiohttp, each call on a new mTLS connection, cycling through `names`. */
export async function rmCalls(
  python: string,
  tls: Tls,
  names: readonly string[],
  load: Load,
): Promise<Calls> {
  const child = new Deno.Command(python, {
    args: [here("rm_client.py")],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const input = JSON.stringify({
    ...load,
    url: tls.url,
    cert: tls.cert,
    key: tls.key,
    cacert: tls.cacert,
    names,
  });
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(input));
  await writer.close();
  const out = await child.output();
  if (!out.success) {
    throw new Error(`rm_client.py failed:\n${new TextDecoder().decode(out.stderr).slice(-3000)}`);
  }
  const r = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    latenciesMs: number[];
    errors: Record<string, number>;
    wallS: number;
    clientCpuS: number;
    lagP99Ms: number;
    lagMaxMs: number;
  };
  return {
    count: load.count,
    ok: r.latenciesMs.length,
    p50: percentile(r.latenciesMs, 0.5),
    p99: percentile(r.latenciesMs, 0.99),
    max: percentile(r.latenciesMs, 1),
    errors: r.errors,
    rps: r.latenciesMs.length / r.wallS,
    wallS: r.wallS,
    clientCpuS: r.clientCpuS,
    lagP99Ms: r.lagP99Ms,
    lagMaxMs: r.lagMaxMs,
  };
}

export interface CurlSplit {
  readonly count: number;
  /** TLS handshake (appconnect − connect), p50/p99 ms. */
  readonly handshakeP50: number;
  readonly handshakeP99: number;
  /** Request sent → first byte of the answer (starttransfer − pretransfer), p50/p99 ms. */
  readonly answerP50: number;
  readonly answerP99: number;
  /** The whole call as curl times it, p50/p99 ms (not counting curl's own start). */
  readonly totalP50: number;
  readonly totalP99: number;
  readonly errors: number;
}

/** `count` calls one after another, each its own `curl` process and connection. */
export async function curlCalls(
  tls: Tls,
  names: readonly string[],
  count: number,
): Promise<CurlSplit> {
  const hs: number[] = [], answer: number[] = [], total: number[] = [];
  let errors = 0;
  for (let i = 0; i < count; i++) {
    const name = names[i % names.length]!;
    const out = await new Deno.Command("curl", {
      args: [
        "-sS",
        "-o",
        "/dev/null",
        "--no-sessionid",
        "--cacert",
        tls.cacert,
        "--cert",
        tls.cert,
        "--key",
        tls.key,
        "-H",
        "content-type: application/json",
        "--data",
        JSON.stringify({ uuid: name, callsign: name, x509cert: "-" }),
        "-w",
        "%{http_code} %{time_connect} %{time_appconnect} %{time_pretransfer} " +
        "%{time_starttransfer} %{time_total}",
        tls.url,
      ],
      stdout: "piped",
      stderr: "null",
    }).output();
    const [code, connect, app, pre, start, tot] = new TextDecoder().decode(out.stdout).split(" ")
      .map(Number) as [number, number, number, number, number, number];
    if (code !== 200) {
      errors++;
      continue;
    }
    hs.push((app - connect) * 1000);
    answer.push((start - pre) * 1000);
    total.push(tot * 1000);
  }
  return {
    count,
    handshakeP50: percentile(hs, 0.5),
    handshakeP99: percentile(hs, 0.99),
    answerP50: percentile(answer, 0.5),
    answerP99: percentile(answer, 0.99),
    totalP50: percentile(total, 0.5),
    totalP99: percentile(total, 0.99),
    errors,
  };
}
