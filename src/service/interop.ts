/**
 * @module Interop as the service builds it: the grants' store, refused CNs from the manifest, our
 * bot as the admin, and the counts `/metrics` shows (grants, authz answers by status, rooms).
 */
import type { Config } from "../config/config.ts";
import type { Logger } from "../log/logger.ts";
import type { Registry } from "../metrics/registry.ts";
import type { SynapseHttp } from "../synapse/http.ts";
import type { BotSession } from "../bot/session.ts";
import { createInteropStore } from "../store/interop.ts";
import { createInterop, type Interop } from "../interop/interop.ts";

export interface ServiceInteropOptions {
  readonly config: Config;
  readonly kv: Deno.Kv;
  readonly http: SynapseHttp;
  readonly bot: BotSession;
  readonly caPems: () => Promise<string[]>;
  readonly metrics: Registry;
  readonly log: Logger;
}

/** The CNs that never get a grant: RM's, ours, and the host names of RM's and our listeners. */
export function refusedInteropCns(config: Config): string[] {
  const m = config.manifest;
  const hosts = [m.rasenmaeher.init?.base_uri, m.rasenmaeher.mtls?.base_uri, m.product.api]
    .flatMap((uri) => {
      try {
        return uri === undefined || uri === null ? [] : [new URL(uri).hostname];
      } catch {
        return [];
      }
    });
  return [m.rasenmaeher.certcn, m.product.dns, `mtls.${m.product.dns}`, ...hosts];
}

export function createServiceInterop(o: ServiceInteropOptions): Interop {
  const store = createInteropStore(o.kv);
  const inner = createInterop({
    store,
    http: o.http,
    admin: o.bot,
    caPems: o.caPems,
    refusedCns: refusedInteropCns(o.config),
    registrationSecret: o.config.synapse.registrationSecret,
    ingestBotUsername: o.config.synapse.ingestBotUsername,
    serverName: o.config.serverName,
    log: o.log,
    onPass: (rooms) => o.metrics.set("matrixrmapi_interop_ingest_rooms", rooms),
  });
  o.metrics.onScrape(async () => {
    o.metrics.set("matrixrmapi_interop_grants", (await store.listGrants()).length);
  });
  const count = (status: number) =>
    o.metrics.inc("matrixrmapi_interop_authz_total", { status: String(status) });
  return {
    ...inner,
    async authz(cn) {
      const outcome = await inner.authz(cn);
      count(outcome.kind === "granted" ? 200 : outcome.kind === "forbidden" ? 403 : 503);
      return outcome;
    },
  };
}
