/**
 * @module The start-up sequence as a background task that never gives up: wait for Synapse,
 * take the KV lease, obtain the bot token, lift its rate limits, ensure rooms and their state,
 * record the room IDs. Every step is idempotent, so a failed attempt simply starts over.
 */
import type { Logger } from "../log/logger.ts";
import type { RoomIds } from "../matrix/deployment.ts";
import type { SynapseHttp } from "../synapse/http.ts";
import { disableRatelimit } from "../synapse/users.ts";
import type { Store } from "../store/store.ts";
import { ensureRooms } from "../rooms/ensure.ts";
import { reconcileRoomState } from "../rooms/state.ts";
import type { PowerLevelWriter } from "../rooms/power_levels.ts";
import { obtainBotToken } from "./token.ts";
import { backoffMs, sleep } from "../util/sleep.ts";
import { createPhases, type PhaseStatus } from "../util/phases.ts";

export const BOOTSTRAP_PHASES = [
  "waiting_for_synapse",
  "waiting_for_lease",
  "obtaining_token",
  "rate_limits",
  "rooms",
  "room_state",
  "ready",
  "error",
] as const;
export type BootstrapPhase = typeof BOOTSTRAP_PHASES[number];

/** Besides the phase: the bot and, once found or made, the rooms. */
interface BootstrapExtra {
  readonly botUserId: string;
  readonly rooms: RoomIds | null;
}

/** `attempt` counts attempts of the whole sequence so far (1 for the first). */
export type BootstrapStatus = PhaseStatus<BootstrapPhase> & BootstrapExtra;

/** What the lifecycle needs once the deployment is ready. */
export interface Ready {
  readonly token: string;
  readonly botUserId: string;
  readonly rooms: RoomIds;
}

export interface BootstrapOptions {
  readonly http: SynapseHttp;
  readonly store: Store;
  readonly registrationSecret: string;
  readonly botUsername: string;
  readonly serverName: string;
  readonly deployment: string;
  readonly legacyTokenFile: string;
  readonly readText: (path: string) => Promise<string | null>;
  readonly log: Logger;
  /** The process's power-level serialiser: the bootstrap's level writes wait their turn too. */
  readonly levels: PowerLevelWriter;
  /** Identifies this process in the KV lease. @default a random UUID */
  readonly holder?: string;
  /** Backoff between attempts: first and cap, in ms. @default [500, 30000] */
  readonly backoffMs?: readonly [number, number];
  /** Lease lifetime; renewed while the bootstrap runs. @default 30000 */
  readonly leaseMs?: number;
}

export interface Bootstrap {
  status(): BootstrapStatus;
  /** The ready state, or `null` while bootstrapping. */
  ready(): Ready | null;
  /** Runs until ready or until `signal` aborts. Never gives up on its own. */
  run(signal: AbortSignal): Promise<Ready | null>;
  /** Synapse rejected the bot's token after start-up: forget the ready state (run again). */
  invalidate(reason: string): void;
}

const LEASE = "bootstrap";

export function createBootstrap(o: BootstrapOptions): Bootstrap {
  const botUserId = `@${o.botUsername}:${o.serverName}`;
  const holder = o.holder ?? crypto.randomUUID();
  const [firstMs, capMs] = o.backoffMs ?? [500, 30_000];
  const leaseMs = o.leaseMs ?? 30_000;
  const phases = createPhases<BootstrapPhase, BootstrapExtra>("waiting_for_synapse", {
    botUserId,
    rooms: null,
  });
  let readyState: Ready | null = null;

  const enter = (phase: BootstrapPhase) => {
    phases.enter(phase);
    o.log.debug("bootstrap phase", { phase });
  };

  async function waitForSynapse(signal: AbortSignal): Promise<void> {
    enter("waiting_for_synapse");
    for (let i = 0; !signal.aborted; i++) {
      try {
        const res = await fetch(`${o.http.baseUrl}/health`, { signal: AbortSignal.timeout(5000) });
        await res.body?.cancel();
        if (res.status === 200) return;
        _note(`Synapse /health answered HTTP ${res.status}`);
      } catch (err) {
        _note(`Synapse unreachable: ${(err as Error).message}`);
      }
      await sleep(_backoff(i), signal);
    }
  }

  const _note = phases.note;
  const _backoff = (i: number) => backoffMs(i, firstMs, capMs);

  async function attempt(signal: AbortSignal): Promise<Ready | null> {
    await waitForSynapse(signal);
    enter("waiting_for_lease");
    for (let waited = 0; !(await o.store.acquireLease(LEASE, holder, leaseMs)); waited++) {
      if (signal.aborted) return null;
      if (waited === 0) {
        o.log.info("bootstrap lease held by another bootstrap; waiting", { holder });
      }
      await sleep(Math.min(1000, leaseMs / 3), signal);
    }
    const renew = setInterval(() => {
      o.store.acquireLease(LEASE, holder, leaseMs).catch((err) =>
        o.log.error("cannot renew the bootstrap lease", { error: err })
      );
    }, leaseMs / 3);
    try {
      enter("obtaining_token");
      const token = await obtainBotToken({ ...o, log: o.log });
      enter("rate_limits");
      if (!(await disableRatelimit(o.http.as(token.accessToken), botUserId))) {
        throw new Error("Synapse did not keep the bot's rate-limit override at 0/0");
      }
      const ctx = {
        synapse: o.http.as(token.accessToken),
        botUserId,
        deployment: o.deployment,
        serverName: o.serverName,
        log: o.log,
      };
      enter("rooms");
      const { ids, created } = await ensureRooms(ctx);
      enter("room_state");
      const writes = (await reconcileRoomState(
        { ...ctx, rooms: ids, levels: o.levels },
        { purpose: "bootstrap" },
      )).length;
      await o.store.setRooms({
        version: 1,
        serverName: o.serverName,
        deployment: o.deployment,
        rooms: ids,
        updatedAt: new Date().toISOString(),
      });
      readyState = { token: token.accessToken, botUserId, rooms: ids };
      phases.update({ rooms: ids });
      enter("ready");
      o.log.info("bootstrap complete", {
        rooms_created: created.length,
        state_writes: writes,
        obtained_via: token.source,
      });
      return readyState;
    } finally {
      clearInterval(renew);
      await o.store.releaseLease(LEASE, holder).catch(() => {});
    }
  }

  return {
    status: phases.status,
    ready: () => readyState,
    invalidate(reason) {
      if (readyState === null) return;
      readyState = null;
      _note(reason);
      enter("obtaining_token");
      o.log.warn("the bot's token was rejected; bootstrapping again", { reason });
    },
    async run(signal) {
      for (let i = 0; !signal.aborted; i++) {
        phases.update({ attempt: i + 1 });
        try {
          const ready = await attempt(signal);
          if (ready !== null || signal.aborted) return ready;
        } catch (err) {
          if (signal.aborted) return null;
          _note((err as Error).message);
          enter("error");
          o.log.error("bootstrap attempt failed; retrying", { attempt: i + 1, error: err });
          await sleep(_backoff(i), signal);
        }
      }
      return null;
    },
  };
}
