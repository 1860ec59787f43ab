/**
 * @module Product interop as one object: the grants RM makes (`grant`), the answer a granted
 * product gets (`authz`), the operator's `revoke`, and the supervised task that keeps the ingest
 * bot's token alive and the bot joined to every room it may read (`run`, once a minute).
 */
import type { Logger } from "../log/logger.ts";
import type { RoomIds } from "../matrix/deployment.ts";
import type { SynapseCaller, SynapseHttp } from "../synapse/http.ts";
import { disableRatelimit } from "../synapse/users.ts";
import type { GrantRecord, IngestTokenRecord, InteropStore } from "../store/interop.ts";
import { sleep } from "../util/sleep.ts";
import { checkGrant } from "./grant.ts";
import { obtainIngestToken } from "./ingest_token.ts";
import { joinIngestBot } from "./ingest_rooms.ts";

export type GrantOutcome =
  | { readonly kind: "granted"; readonly created: boolean; readonly record: GrantRecord }
  | { readonly kind: "refused"; readonly reason: string };

export type AuthzOutcome =
  | { readonly kind: "granted"; readonly token: string; readonly userId: string }
  | { readonly kind: "forbidden" }
  | { readonly kind: "unavailable"; readonly reason: string };

/** What `status` shows: never the token. */
export interface InteropStatus {
  readonly grants: ReadonlyArray<{ certcn: string; grantedAt: string; grantedBy: string }>;
  readonly ingestBot: {
    readonly userId: string;
    readonly ready: boolean;
    readonly deviceId: string | null;
    readonly rooms: number | null;
    readonly lastPassAt: Date | null;
    readonly lastError: string | null;
    readonly lastErrorAt: Date | null;
  };
}

/** Our own bot, as far as interop needs it. */
export interface AdminBot extends SynapseCaller {
  current(): { readonly rooms: RoomIds } | null;
  whenReady(signal: AbortSignal): Promise<{ readonly rooms: RoomIds } | null>;
}

export interface InteropOptions {
  readonly store: InteropStore;
  readonly http: SynapseHttp;
  readonly admin: AdminBot;
  readonly caPems: () => Promise<string[]>;
  /** CNs never granted: ours, RM's. */
  readonly refusedCns: readonly string[];
  readonly registrationSecret: string;
  readonly ingestBotUsername: string;
  readonly serverName: string;
  readonly log: Logger;
  /** @default () => new Date() */
  readonly now?: () => Date;
  /** Between membership passes. @default 60000 */
  readonly intervalMs?: number;
  /** Called after every pass with the number of rooms the bot is in. */
  readonly onPass?: (rooms: number) => void;
}

export interface Interop {
  grant(request: { certcn: string; x509cert: string; by: string }): Promise<GrantOutcome>;
  authz(cn: string): Promise<AuthzOutcome>;
  revoke(certcn: string): Promise<boolean>;
  list(): Promise<GrantRecord[]>;
  status(): Promise<InteropStatus>;
  /** Keeps the ingest bot's token and rooms right until `signal` aborts. */
  run(signal: AbortSignal): Promise<void>;
}

/** How long a product is told to wait while the ingest bot does not exist yet. */
export const AUTHZ_RETRY_AFTER_S = 10;

export function createInterop(o: InteropOptions): Interop {
  const now = o.now ?? (() => new Date());
  const userId = `@${o.ingestBotUsername}:${o.serverName}`;
  let token: IngestTokenRecord | null = null;
  let rooms: number | null = null;
  let lastPassAt: Date | null = null;
  let lastError: { message: string; at: Date } | null = null;
  let ratelimitLifted = false;

  async function pass(): Promise<void> {
    const ready = o.admin.current();
    if (ready === null) return;
    token = await obtainIngestToken({
      http: o.http,
      admin: o.admin,
      store: o.store,
      registrationSecret: o.registrationSecret,
      username: o.ingestBotUsername,
      serverName: o.serverName,
      log: o.log,
      now,
    });
    if (!ratelimitLifted) ratelimitLifted = await disableRatelimit(o.admin, userId);
    const result = await joinIngestBot(o.admin, ready.rooms, userId);
    for (const roomId of result.joined) o.log.info("joined the ingest bot to a room", { roomId });
    for (const f of result.failed) {
      o.log.warn("cannot join the ingest bot to a room", { roomId: f.roomId, reason: f.reason });
    }
    rooms = result.inRooms;
    lastPassAt = now();
    o.onPass?.(result.inRooms);
  }

  return {
    grant: (request) => _grant(o, now, request),
    async authz(cn) {
      if (await o.store.getGrant(cn) === null) return { kind: "forbidden" };
      if (token === null) return { kind: "unavailable", reason: "the ingest bot is not ready yet" };
      return { kind: "granted", token: token.accessToken, userId: token.userId };
    },
    async revoke(certcn) {
      const removed = await o.store.deleteGrant(certcn);
      if (removed) o.log.warn("revoked an interop grant", { certcn });
      return removed;
    },
    list: () => o.store.listGrants(),
    async status() {
      const grants = await o.store.listGrants();
      return {
        grants: grants.map((g) => ({
          certcn: g.certcn,
          grantedAt: g.grantedAt,
          grantedBy: g.grantedBy,
        })),
        ingestBot: {
          userId,
          ready: token !== null,
          deviceId: token?.deviceId ?? null,
          rooms,
          lastPassAt,
          lastError: lastError?.message ?? null,
          lastErrorAt: lastError?.at ?? null,
        },
      };
    },
    async run(signal) {
      const intervalMs = o.intervalMs ?? 60_000;
      while (!signal.aborted) {
        if (await o.admin.whenReady(signal) === null) return;
        try {
          await pass();
          lastError = null;
        } catch (err) {
          // Logged without the token: errors here carry Synapse's message, never our headers.
          lastError = { message: (err as Error).message, at: now() };
          o.log.error("ingest bot pass failed; retrying", { error: (err as Error).message });
        }
        await sleep(intervalMs, signal);
      }
    },
  };
}

/** Checks a grant RM asks for and records it (first time and caller kept on repeats). */
async function _grant(
  o: InteropOptions,
  now: () => Date,
  request: { certcn: string; x509cert: string; by: string },
): Promise<GrantOutcome> {
  const check = await checkGrant({
    certcn: request.certcn,
    x509cert: request.x509cert,
    caPems: await o.caPems(),
    refusedCns: o.refusedCns,
    now: now(),
  });
  if (!check.ok) {
    o.log.warn("refused an interop grant", { certcn: request.certcn, by: request.by });
    return { kind: "refused", reason: check.reason };
  }
  const at = now().toISOString();
  const { created, record } = await o.store.upsertGrant({
    version: 1,
    certcn: request.certcn,
    grantedAt: at,
    grantedBy: request.by,
    lastConfirmedAt: at,
    serial: check.serial,
    notAfter: check.notAfter.toISOString(),
  });
  o.log.info(created ? "granted interop" : "interop grant repeated", {
    certcn: record.certcn,
    by: request.by,
    serial: record.serial,
  });
  return { kind: "granted", created, record };
}
