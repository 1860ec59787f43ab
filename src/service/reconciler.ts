/**
 * @module Reconciliation as the service runs it: RM's people list fetched over mTLS with the
 * current product certificate (renewed or not), and the drift pass as the bot.
 */
import type { Config } from "../config/config.ts";
import type { CertificateManager } from "../certificate/manager.ts";
import type { Lifecycle } from "../lifecycle/lifecycle.ts";
import type { Logger } from "../log/logger.ts";
import type { Registry } from "../metrics/registry.ts";
import type { RoomLocks } from "../rooms/locks.ts";
import type { WishStore } from "../store/wishes.ts";
import type { BotSession } from "../bot/session.ts";
import type { RmProductApi } from "../rm/product_api.ts";
import { createReconciler, type Reconciler } from "../reconcile/reconcile.ts";
import { correctDrift } from "../reconcile/drift.ts";

export interface ServiceReconcilerOptions {
  readonly config: Config;
  readonly certificate: CertificateManager;
  readonly rm: RmProductApi;
  readonly wishes: WishStore;
  readonly lifecycle: Lifecycle;
  readonly locks: RoomLocks;
  readonly bot: BotSession;
  readonly metrics: Registry;
  readonly log: Logger;
}

/** The reconciler, or `null` (with a warning) when the manifest names no RM to ask. */
export function createServiceReconciler(o: ServiceReconcilerOptions): Reconciler | null {
  const base = o.config.reconcile.rmBaseUri;
  if (base === null) {
    o.log.warn("reconciliation off: the manifest has no rasenmaeher.mtls.base_uri");
    return null;
  }
  return createReconciler({
    fetchPeople: async () => {
      const pair = o.certificate.current();
      if (pair === null) {
        return {
          ok: false as const,
          kind: "unreachable" as const,
          status: 0,
          message: `no product certificate yet (${o.certificate.status().phase})`,
        };
      }
      return await o.rm.peopleList(pair);
    },
    wishes: o.wishes,
    lifecycle: o.lifecycle,
    serverName: o.config.serverName,
    botUsername: o.config.synapse.botUsername,
    rmOwnCallsigns: o.config.rmOwnCallsigns,
    ingestBotUsername: o.config.synapse.ingestBotUsername,
    drift: (dryRun) => {
      const ready = o.bot.current();
      if (ready === null) return Promise.resolve(0);
      return correctDrift({
        synapse: o.bot,
        rooms: ready.rooms,
        botUserId: ready.botUserId,
        deployment: o.config.manifest.deployment,
        serverName: o.config.serverName,
        locks: o.locks,
        wishes: o.wishes,
        log: o.log,
      }, dryRun);
    },
    log: o.log,
    metrics: o.metrics,
  });
}
