/** @module Builds bootstraps against the test homeserver, each with its own deployment and bot. */
import { type Bootstrap, createBootstrap, type Ready } from "../../src/bootstrap/bootstrap.ts";
import { createMemoryLogger } from "../../src/log/logger.ts";
import { createStore, type Store } from "../../src/store/store.ts";
import type { SynapseHttp } from "../../src/synapse/http.ts";
import { createRoomLocks, type RoomLocks } from "../../src/rooms/locks.ts";
import { type TestHomeserver, uniqueName } from "./synapse.ts";

export interface Deployment {
  readonly deployment: string;
  readonly botUsername: string;
  readonly botUserId: string;
  readonly legacyTokenFile: string;
}

export function newDeployment(hs: TestHomeserver): Deployment {
  const botUsername = uniqueName("bot");
  return {
    deployment: uniqueName("dep"),
    botUsername,
    botUserId: `@${botUsername}:${hs.serverName}`,
    legacyTokenFile: `/nonexistent/${botUsername}`,
  };
}

export interface BootstrapHarness {
  readonly bootstrap: Bootstrap;
  readonly store: Store;
  readonly log: ReturnType<typeof createMemoryLogger>;
  /** Runs to ready (bounded) and returns the ready state. */
  runToReady(timeoutMs?: number): Promise<Ready>;
}

export function harness(
  hs: TestHomeserver,
  dep: Deployment,
  kv: Deno.Kv,
  options: { http?: SynapseHttp; holder?: string; locks?: RoomLocks } = {},
): BootstrapHarness {
  const log = createMemoryLogger();
  const store = createStore(kv);
  const bootstrap = createBootstrap({
    http: options.http ?? hs.http,
    store,
    // The bootstrap only takes its turn in the serialiser (`exclusive`); it never calls `set`.
    locks: options.locks ?? createRoomLocks(),
    registrationSecret: hs.secret,
    botUsername: dep.botUsername,
    serverName: hs.serverName,
    deployment: dep.deployment,
    legacyTokenFile: dep.legacyTokenFile,
    readText: (p) => Deno.readTextFile(p).catch(() => null),
    log,
    backoffMs: [50, 500],
    leaseMs: 3000,
    ...(options.holder ? { holder: options.holder } : {}),
  });
  return {
    bootstrap,
    store,
    log,
    async runToReady(timeoutMs = 60_000) {
      const signal = AbortSignal.timeout(timeoutMs);
      const ready = await bootstrap.run(signal);
      if (ready === null) {
        throw new Error(
          `bootstrap not ready in ${timeoutMs} ms: ${JSON.stringify(bootstrap.status())}\n${
            log.lines.slice(-10).join("\n")
          }`,
        );
      }
      return ready;
    },
  };
}
