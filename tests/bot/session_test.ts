import assert from "node:assert/strict";
import { BotNotReadyError, createBotSession } from "../../src/bot/session.ts";
import type { Bootstrap, BootstrapStatus, Ready } from "../../src/bootstrap/bootstrap.ts";
import { type CallOptions, SynapseError, type SynapseHttp } from "../../src/synapse/http.ts";
import { z } from "zod";
import { waitFor } from "../support/wait.ts";

const ROOMS = { space: "!s", general: "!g", helpdesk: "!h", offtopic: "!o", admin: "!a" };

/** A bootstrap that hands out `tok1`, `tok2`, … one per run, and counts its runs. */
function scriptedBootstrap() {
  let ready: Ready | null = null;
  let phase: BootstrapStatus["phase"] = "waiting_for_synapse";
  const b = {
    runs: 0,
    invalidations: [] as string[],
    status: (): BootstrapStatus => ({
      phase,
      since: new Date(0),
      attempt: b.runs,
      lastError: null,
      lastErrorAt: null,
      botUserId: "@bot:x",
      rooms: ready?.rooms ?? null,
    }),
    ready: () => ready,
    run(signal: AbortSignal) {
      if (signal.aborted) return Promise.resolve(null);
      b.runs++;
      ready = { token: `tok${b.runs}`, botUserId: "@bot:x", rooms: ROOMS };
      phase = "ready";
      return Promise.resolve(ready);
    },
    invalidate(reason: string) {
      b.invalidations.push(reason);
      ready = null;
      phase = "obtaining_token";
    },
  };
  return b satisfies Bootstrap;
}

/** Synapse that accepts only the tokens in `valid`, and records which token each call used. */
function tokenCheckingHttp(valid: Set<string>): SynapseHttp & { used: Array<string | null> } {
  const used: Array<string | null> = [];
  const http: SynapseHttp & { used: Array<string | null> } = {
    baseUrl: "http://synapse.invalid",
    used,
    call<T>(token: string | null, o: CallOptions<T>): Promise<T> {
      used.push(token);
      if (token === null || !valid.has(token)) {
        return Promise.reject(
          new SynapseError(401, "M_UNKNOWN_TOKEN", "Unknown access token", null, "GET /x"),
        );
      }
      return Promise.resolve(o.schema.parse({ ok: true }));
    },
    as: (token) => ({ call: (o) => http.call(token, o) }),
  };
  return http;
}

const ping: CallOptions<{ ok: boolean }> = {
  method: "GET",
  path: "/x",
  schema: z.object({ ok: z.boolean() }),
};

Deno.test("BotSession: no call before the bootstrap is ready; then calls carry the token", async () => {
  const bootstrap = scriptedBootstrap();
  const http = tokenCheckingHttp(new Set(["tok1"]));
  const session = createBotSession({ http, bootstrap });
  await assert.rejects(session.call(ping), BotNotReadyError);
  assert.deepEqual(http.used, [], "nothing sent without a token");
  const stop = new AbortController();
  const running = session.run(stop.signal);
  const ready = await session.whenReady(stop.signal);
  assert.equal(ready?.token, "tok1");
  assert.deepEqual(await session.call(ping), { ok: true });
  assert.deepEqual(http.used, ["tok1"]);
  stop.abort();
  await running;
});

Deno.test("BotSession: many calls rejected with the same token invalidate it once; the bootstrap runs again", async () => {
  const bootstrap = scriptedBootstrap();
  const valid = new Set(["tok1"]);
  const http = tokenCheckingHttp(valid);
  const session = createBotSession({ http, bootstrap });
  const stop = new AbortController();
  const running = session.run(stop.signal);
  await session.whenReady(stop.signal);
  valid.delete("tok1"); // an operator logged the bot out
  valid.add("tok2");
  const results = await Promise.allSettled(Array.from({ length: 5 }, () => session.call(ping)));
  assert.ok(results.every((r) => r.status === "rejected" && r.reason instanceof SynapseError));
  assert.equal(bootstrap.invalidations.length, 1, "one invalidation for one dead token");
  await waitFor("the second bootstrap", () => session.current()?.token === "tok2");
  assert.equal(bootstrap.runs, 2);
  assert.equal((await session.whenReady(stop.signal))?.token, "tok2", "ready again for waiters");
  assert.deepEqual(await session.call(ping), { ok: true });
  stop.abort();
  await running;
});

Deno.test("BotSession: a late 401 for a replaced token leaves the new token alone", async () => {
  const bootstrap = scriptedBootstrap();
  const inner = tokenCheckingHttp(new Set(["tok2"]));
  const held = Promise.withResolvers<void>();
  let holdNext = true;
  // The first call is held back (a slow request with tok1); the others answer at once.
  const http: SynapseHttp = {
    ...inner,
    async call(token, o) {
      if (holdNext) {
        holdNext = false;
        await held.promise;
      }
      return await inner.call(token, o);
    },
    as: (token) => ({ call: (o) => http.call(token, o) }),
  };
  const session = createBotSession({ http, bootstrap });
  const stop = new AbortController();
  const running = session.run(stop.signal);
  await session.whenReady(stop.signal);
  const slow = session.call(ping); // with tok1, held
  await assert.rejects(session.call(ping)); // tok1 is dead: invalidated, bootstrapped again
  await waitFor("tok2", () => session.current()?.token === "tok2");
  held.resolve();
  await assert.rejects(slow, SynapseError); // its 401 arrives now, for tok1
  assert.equal(bootstrap.invalidations.length, 1, "the late 401 did not invalidate tok2");
  assert.equal(session.current()?.token, "tok2");
  assert.deepEqual(await session.call(ping), { ok: true });
  stop.abort();
  await running;
});

Deno.test("BotSession: whenReady() resolves null when stopped before the bot is ready", async () => {
  const session = createBotSession({
    http: tokenCheckingHttp(new Set()),
    bootstrap: scriptedBootstrap(),
  });
  const stop = new AbortController();
  const waiting = session.whenReady(stop.signal);
  stop.abort();
  assert.equal(await waiting, null);
});
