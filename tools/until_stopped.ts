/**
 * @module The `run` subcommand of the server harnesses (Synapse, Keycloak): trap SIGINT and
 * SIGTERM from the start, keep the server until one arrives or it exits, then stop it.
 */

export interface StopTrap {
  /** Resolves with the first stop signal. */
  readonly signalled: Promise<Deno.Signal>;
  /** Aborted by that signal, so a server still starting can give up. */
  readonly signal: AbortSignal;
}

/** Starts listening for SIGINT and SIGTERM. */
export function trapStopSignals(): StopTrap & { release(): void } {
  const { promise: signalled, resolve } = Promise.withResolvers<Deno.Signal>();
  const ac = new AbortController();
  const on = {
    SIGINT: () => (resolve("SIGINT"), ac.abort()),
    SIGTERM: () => (resolve("SIGTERM"), ac.abort()),
  };
  for (const [sig, fn] of Object.entries(on)) Deno.addSignalListener(sig as Deno.Signal, fn);
  return {
    signalled,
    signal: ac.signal,
    release() {
      for (const [sig, fn] of Object.entries(on)) Deno.removeSignalListener(sig as Deno.Signal, fn);
    },
  };
}

/** Waits for a stop signal or the server's exit, stops it; exit code 0 only after a signal. */
export async function runUntilStopped(
  server: { readonly exited: Promise<Deno.CommandStatus>; stop(): Promise<void> },
  trap: StopTrap & { release(): void },
  name: string,
  say: (line: string) => void,
): Promise<number> {
  say("Running; Ctrl-C (SIGINT) or SIGTERM stops it.");
  const why = await Promise.race([
    trap.signalled,
    server.exited.then((s) => `exit code ${s.code}`),
  ]);
  trap.release();
  await server.stop();
  say(`${name} stopped (${why}).`);
  return why.startsWith("SIG") ? 0 : 1;
}
