/** @module Runs the CFSSL command line and hands back its output, or why it failed. */
import type { CfsslBins } from "./install.ts";

/** Runs `cfssl <args>` in `cwd` (with `stdin` if given); its standard output. */
export async function runCfssl(
  bins: CfsslBins,
  args: readonly string[],
  cwd: string,
  stdin?: string,
): Promise<string> {
  const child = new Deno.Command(bins.cfssl, {
    args: [...args],
    cwd,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const out = await child.output();
  if (!out.success) {
    const why = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-3).join("\n");
    throw new Error(`cfssl ${args[0]} failed: ${why}`);
  }
  return new TextDecoder().decode(out.stdout);
}
