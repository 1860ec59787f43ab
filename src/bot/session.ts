/**
 * @module The bot's session: the one owner of the bot's token. Everyone who acts in Synapse as
 * the bot calls through it; nobody holds a token of their own. When Synapse rejects the token
 * (401), the session forgets it once — however many calls saw the same 401 — and the bootstrap
 * runs again; calls in the meantime fail plainly with `BotNotReadyError` and are retried by
 * their owners.
 */
import { type SynapseCaller, SynapseError, type SynapseHttp } from "../synapse/http.ts";
import type { Bootstrap, BootstrapStatus, Ready } from "../bootstrap/bootstrap.ts";
import { createWaiters } from "../util/waiters.ts";

/** A call as the bot while there is no token (bootstrapping, or again after a 401). */
export class BotNotReadyError extends Error {
  override name = "BotNotReadyError";
}

export interface BotSession extends SynapseCaller {
  /** Token, bot account and rooms; `null` while the bootstrap runs. */
  current(): Ready | null;
  /** Resolves once the bot is ready, or with `null` when `signal` aborts first. */
  whenReady(signal: AbortSignal): Promise<Ready | null>;
  /** Synapse rejected the token: forget it and bootstrap again. Repeats for one token are no-ops. */
  invalidate(reason: string): void;
  /** The bootstrap's progress. */
  status(): BootstrapStatus;
  /** Bootstraps, and again after every rejected token, until `signal` aborts. */
  run(signal: AbortSignal): Promise<void>;
}

export interface BotSessionOptions {
  readonly http: SynapseHttp;
  readonly bootstrap: Bootstrap;
}

export function createBotSession(o: BotSessionOptions): BotSession {
  const waiting = createWaiters(() => o.bootstrap.ready());
  let rejected = Promise.withResolvers<void>();

  function invalidate(reason: string, token?: string): void {
    const ready = o.bootstrap.ready();
    if (ready === null || (token !== undefined && ready.token !== token)) return;
    o.bootstrap.invalidate(reason);
    rejected.resolve();
  }

  return {
    async call(options) {
      const ready = o.bootstrap.ready();
      if (ready === null) {
        throw new BotNotReadyError(
          `the bot is not ready (bootstrap ${o.bootstrap.status().phase})`,
        );
      }
      try {
        return await o.http.call(ready.token, options);
      } catch (err) {
        // Only the token this call used: a 401 for an already replaced token changes nothing.
        if (err instanceof SynapseError && err.status === 401) invalidate(err.message, ready.token);
        throw err;
      }
    },
    current: () => o.bootstrap.ready(),
    whenReady: (signal) => waiting.wait(signal),
    invalidate: (reason) => invalidate(reason),
    status: () => o.bootstrap.status(),
    async run(signal) {
      const aborted = new Promise<void>((resolve) => {
        if (signal.aborted) resolve();
        else signal.addEventListener("abort", () => resolve(), { once: true });
      });
      while (!signal.aborted) {
        await o.bootstrap.run(signal);
        waiting.wake(); // whoever waits for the bot (the worker) goes on
        await Promise.race([rejected.promise, aborted]);
        rejected = Promise.withResolvers<void>();
      }
    },
  };
}
