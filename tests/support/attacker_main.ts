// deno-lint-ignore-file no-console -- its stdout is the protocol with the test
/**
 * @module The attackers of `tests/server/availability_process_test.ts` as their own process, so
 * that thousands of client sockets do not share an event loop with RM's measured calls. Opens the
 * plan's connections from 127.0.0.2 upward, drips a byte a second into the slow ones, prints
 * `{"settled": ms}` once the server has dealt with every connection, then `{"report": …}` once all
 * are closed (or their budgets and the slack are long past), and exits.
 *
 * Usage: `deno run --allow-net --allow-read attacker_main.ts '<AttackOptions as JSON>'`
 */
import { attack, type Attacker, type AttackKind, credentials, dripEverySecond } from "./attack.ts";

export interface AttackOptions {
  readonly mtlsPort: number;
  readonly httpPort: number;
  readonly caChain: string;
  readonly cert: string;
  readonly key: string;
  /** Source addresses 127.0.0.2 … 127.0.0.(1 + addresses). */
  readonly addresses: number;
  readonly plan: ReadonlyArray<[AttackKind, "plain" | "mtls", number]>;
  /** How long each kind may stay open, after the time the flood took to get in. */
  readonly budgetsMs: { readonly handshake: number; readonly head: number; readonly body: number };
}

export interface AttackReport {
  readonly launchMs: number;
  /** Connections the server let through the TLS handshake. */
  readonly secured: number;
  readonly late: number;
  readonly lateExamples: ReadonlyArray<[string, number | null]>;
  /** Per kind@listener: count and the longest a connection stayed. */
  readonly tally: Record<string, string>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function _budget(a: Attacker, b: AttackOptions["budgetsMs"]): number {
  if (a.kind === "idle-tcp" && a.listener === "mtls") return b.handshake;
  return a.kind === "slow-body" ? b.body : b.head; // idle TCP on plain, idle TLS, slow heads
}

function _tally(attackers: readonly Attacker[]): Record<string, string> {
  const out: Record<string, { n: number; max: number }> = {};
  for (const a of attackers) {
    const t = out[`${a.kind}@${a.listener}`] ??= { n: 0, max: 0 };
    t.n++;
    t.max = Math.max(t.max, a.closedAfter ?? Infinity);
  }
  return Object.fromEntries(
    Object.entries(out).map(([k, t]) => [k, `${t.n} (max ${Math.round(t.max)} ms)`]),
  );
}

async function main(o: AttackOptions): Promise<void> {
  const creds = await credentials(o.caChain, o.cert, o.key);
  const attackers: Attacker[] = [];
  const launched = performance.now();
  for (const [kind, listener, count] of o.plan) {
    for (let i = 0; i < count; i++) {
      attackers.push(attack({
        kind,
        listener,
        port: listener === "mtls" ? o.mtlsPort : o.httpPort,
        from: `127.0.0.${2 + (attackers.length % o.addresses)}`,
        creds,
      }));
    }
  }
  const stopDrip = dripEverySecond(attackers);
  while (attackers.some((a) => !a.settled) && performance.now() - launched < 10_000) {
    await sleep(50);
  }
  const launchMs = performance.now() - launched;
  console.log(JSON.stringify({ settled: Math.round(launchMs) }));
  const longest = Math.max(...Object.values(o.budgetsMs)) + launchMs + 1000;
  while (attackers.some((a) => a.closedAfter === null) && performance.now() - launched < longest) {
    await sleep(200);
  }
  stopDrip();
  const late = attackers.filter((a) =>
    a.closedAfter === null || a.closedAfter > _budget(a, o.budgetsMs) + launchMs
  );
  const report: AttackReport = {
    launchMs: Math.round(launchMs),
    secured: attackers.filter((a) => a.secured).length,
    late: late.length,
    lateExamples: late.slice(0, 3).map((a) => [`${a.kind}@${a.listener}`, a.closedAfter]),
    tally: _tally(attackers),
  };
  console.log(JSON.stringify({ report }));
  for (const a of attackers) a.socket.destroy();
}

if (import.meta.main) await main(JSON.parse(Deno.args[0] ?? "{}"));
