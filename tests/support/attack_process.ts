/**
 * @module Runs `attacker_main.ts` as a child process and follows what it prints: `settled` once
 * the flood is in, `report` once every attacker is closed or out of time.
 */
import type { AttackOptions, AttackReport } from "./attacker_main.ts";

const MAIN = new URL("./attacker_main.ts", import.meta.url).pathname;

export interface AttackProcess {
  /** Resolves once the server has dealt with every attacking connection (ms it took). */
  readonly settled: Promise<number>;
  /** Resolves with the outcome once every attacker is closed or past its budget. */
  readonly report: Promise<AttackReport>;
  /** Ends the process (when the test fails early). */
  kill(): Promise<void>;
}

export function startAttack(options: AttackOptions): AttackProcess {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-read", MAIN, JSON.stringify(options)],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const settled = Promise.withResolvers<number>();
  const report = Promise.withResolvers<AttackReport>();
  const reading = (async () => {
    let buffer = "";
    for await (const text of child.stdout.pipeThrough(new TextDecoderStream())) {
      buffer += text;
      let end: number;
      while ((end = buffer.indexOf("\n")) >= 0) {
        const line = JSON.parse(buffer.slice(0, end));
        buffer = buffer.slice(end + 1);
        if ("settled" in line) settled.resolve(line.settled);
        if ("report" in line) report.resolve(line.report);
      }
    }
    const failed = new Error("the attacker process ended without a report");
    settled.reject(failed);
    report.reject(failed);
  })();
  settled.promise.catch(() => {});
  report.promise.catch(() => {});
  return {
    settled: settled.promise,
    report: report.promise,
    async kill() {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
      await child.status;
      await reading;
    },
  };
}
