/**
 * @module Runs `main.ts` as a real process under the production permission set (with the paths
 * of `env`), as production and the container probe do.
 */
import { servicePermissions } from "../../tools/permissions.ts";
import { waitFor } from "./wait.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

export interface Output {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `main.ts <args>` to completion with exactly `env` (plus PATH). */
export async function runMain(
  args: string[],
  env: Record<string, string> = {},
  entry: Entry = {},
): Promise<Output> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...(entry.flags ?? []), ...servicePermissions(env), entry.path ?? MAIN, ...args],
    env: { PATH: Deno.env.get("PATH") ?? "", NO_COLOR: "1", ...entry.denoEnv, ...env },
    clearEnv: true,
    stdin: "null",
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

/** A TCP port that was free a moment ago. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** How to start the service: `main.ts` from source, or another entry (the bundle). */
export interface Entry {
  /** Deno flags before the entry's path. @default [] */
  readonly flags?: readonly string[];
  /** @default main.ts */
  readonly path?: string;
  /** Extra environment for Deno itself (e.g. DENO_DIR). */
  readonly denoEnv?: Record<string, string>;
}

/** Starts `serve` and resolves once `probe` succeeds; `stop()` ends it with SIGTERM. */
export async function startMain(
  env: Record<string, string>,
  probe: () => Promise<boolean>,
  entry: Entry = {},
): Promise<{ pid: number; stop: () => Promise<Output>; kill9: () => Promise<Output> }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...(entry.flags ?? []), ...servicePermissions(env), entry.path ?? MAIN, "serve"],
    env: { PATH: Deno.env.get("PATH") ?? "", NO_COLOR: "1", ...entry.denoEnv, ...env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = child.output();
  const stop = (signal: Deno.Signal = "SIGTERM") => async () => {
    try {
      child.kill(signal);
    } catch { /* already gone */ }
    const out = await output;
    const text = new TextDecoder();
    return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
  };
  const ready = await waitFor("main.ts to answer", () => probe().catch(() => false), {
    timeoutMs: 20_000,
    intervalMs: 100,
  }).catch(() => false);
  if (ready) return { pid: child.pid, stop: stop("SIGTERM"), kill9: stop("SIGKILL") };
  const out = await stop("SIGTERM")();
  throw new Error(`main.ts did not become ready in 20 s; stderr:\n${out.stderr}`);
}
