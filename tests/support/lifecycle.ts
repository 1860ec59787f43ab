/** @module A bootstrapped deployment with the durable lifecycle running, for lifecycle tests. */
import type { WishStore } from "../../src/store/wishes.ts";
import type { Worker } from "../../src/lifecycle/worker.ts";
import { wireLifecycle } from "../../src/service/parts.ts";
import { createRegistry, METRICS } from "../../src/metrics/registry.ts";
import type {
  Lifecycle,
  LifecycleAction,
  LifecycleOutcome,
} from "../../src/lifecycle/lifecycle.ts";
import type { Ready } from "../../src/bootstrap/bootstrap.ts";
import { createSynapseHttp, type SynapseHttp } from "../../src/synapse/http.ts";
import { getState } from "../../src/synapse/rooms.ts";
import { PowerLevels } from "../../src/rooms/spec.ts";
import { joinedRooms } from "../../src/synapse/membership.ts";
import { createMemoryLogger } from "../../src/log/logger.ts";
import { randomPassword, registerWithSharedSecret } from "../../src/synapse/registration.ts";
import { harness, newDeployment } from "./bootstrap.ts";
import { type TestHomeserver, uniqueName } from "./synapse.ts";
import { waitFor } from "./wait.ts";
import { createRoomLocks, type RoomLocks } from "../../src/rooms/locks.ts";

export interface LifecycleFixture extends AsyncDisposable {
  readonly ready: Ready;
  readonly store: WishStore;
  readonly worker: Worker;
  readonly lifecycle: Lifecycle;
  readonly log: ReturnType<typeof createMemoryLogger>;
  /** Every call made through the fixture's own client (not `options.http`), as `METHOD path`. */
  readonly calls: readonly string[];
  /** The room locks the bootstrap and the power-level writer take (the drift pass too). */
  readonly locks: RoomLocks;
  readonly kv: Deno.Kv;
  readonly deployment: string;
  /** Sends one callback as the route would. */
  send(action: LifecycleAction, localpart: string): Promise<LifecycleOutcome>;
  /** Sends one callback, expects it accepted, and waits (bounded) until its wish is applied. */
  apply(action: LifecycleAction, localpart: string, timeoutMs?: number): Promise<void>;
  userId(localpart: string): string;
  /** Creates the Matrix account, as a first OIDC login would. */
  login(localpart: string): Promise<void>;
  joined(localpart: string): Promise<string[]>;
  level(localpart: string, room: keyof Ready["rooms"]): Promise<number | undefined>;
  /** Waits (bounded) until nothing is pending. */
  settle(timeoutMs?: number): Promise<void>;
}

export async function lifecycleFixture(
  hs: TestHomeserver,
  options: { http?: SynapseHttp; kv?: Deno.Kv } = {},
): Promise<LifecycleFixture> {
  const kv = options.kv ?? await Deno.openKv(":memory:");
  const dep = newDeployment(hs);
  const calls: string[] = [];
  const http = options.http ??
    createSynapseHttp({ baseUrl: hs.url, onResponse: (endpoint) => calls.push(endpoint) });
  // One set of room locks for the bootstrap and the writer, as in production.
  const locks = createRoomLocks();
  const booted = harness(hs, dep, kv, { locks });
  const ready = await booted.runToReady();
  const log = createMemoryLogger();
  // The lifecycle as production wires it, with a short backoff so outages end within a test.
  const { wishes: store, worker, lifecycle } = wireLifecycle({
    synapse: http,
    bootstrap: booted.bootstrap,
    locks,
    kv,
    log,
    metrics: createRegistry(METRICS),
    pace: { maxBackoffMs: 1000 },
  });
  const stop = new AbortController();
  const running = worker.run(stop.signal);
  const prefix = uniqueName("p");
  const userId = (localpart: string) => `@${prefix}${localpart}:${hs.serverName}`;
  const send = (action: LifecycleAction, localpart: string) =>
    lifecycle.submit({
      action,
      userId: userId(localpart),
      callsign: localpart,
      uuid: "u",
      receivedAt: new Date(),
    });
  const fixture: LifecycleFixture = {
    ready,
    store,
    worker,
    lifecycle,
    log,
    calls,
    locks,
    kv,
    deployment: dep.deployment,
    userId,
    send,
    async apply(action, localpart, timeoutMs = 30_000) {
      const outcome = await send(action, localpart);
      if (outcome.kind !== "accepted") {
        throw new Error(`${action} of ${localpart}: ${JSON.stringify(outcome)}`);
      }
      await waitFor(`${action} of ${localpart} applied`, async () => {
        const record = await store.get(userId(localpart));
        return record !== null && record.appliedGeneration >= record.generation;
      }, { timeoutMs, intervalMs: 20 });
    },
    async login(localpart) {
      const r = await registerWithSharedSecret(hs.http, hs.secret, {
        username: `${prefix}${localpart}`,
        password: randomPassword(),
        admin: false,
      });
      if (r.kind !== "registered") throw new Error(`cannot register ${localpart}`);
    },
    joined: (localpart) => joinedRooms(hs.http.as(ready.token), userId(localpart)),
    async level(localpart, room) {
      const pl = await getState(
        hs.http.as(ready.token),
        ready.rooms[room],
        "m.room.power_levels",
        "",
        PowerLevels,
      );
      return pl?.users?.[userId(localpart)];
    },
    async settle(timeoutMs = 30_000) {
      let pending = -1;
      await waitFor(
        "nothing pending",
        async () => (pending = (await store.listPending()).length) === 0,
        {
          timeoutMs,
          intervalMs: 100,
        },
      ).catch(async () => {
        throw new Error(
          `still pending after ${timeoutMs} ms (${pending}): ${
            JSON.stringify(await worker.pending())
          }`,
        );
      });
    },
    async [Symbol.asyncDispose]() {
      stop.abort();
      await running;
      if (options.kv === undefined) kv.close();
    },
  };
  return fixture;
}

export { createSynapseHttp };
