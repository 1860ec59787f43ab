/**
 * @module Waiting for first logins at constant cost: instead of asking Synapse about every person
 * who has not logged in yet, read Synapse's account list newest first, from where the last look
 * stopped, and make due only the wishes of people who appeared. One request per look however many
 * wait; a KV write only when someone appeared.
 */
import type { Logger } from "../log/logger.ts";
import type { SynapseCaller } from "../synapse/http.ts";
import { newestUsers } from "../synapse/users.ts";
import type { LoginWatermark, WishStore } from "../store/wishes.ts";
import { backoffMs } from "../util/sleep.ts";

/**
 * What a wish waiting for a first login says it waits for: in status, and in KV's `waitingFor`,
 * where the watch below finds the people waiting by it.
 */
export const WAITING_FOR_LOGIN = "the person has not logged in to Matrix yet";

/** The first safety-net look at one waiting person, and the longest gap between two. */
export const LOGIN_RECHECK_MS = 10 * 60_000;
export const LOGIN_RECHECK_MAX_MS = 24 * 3_600_000;

/**
 * When to look at a waiting person again after `attempts` looks: 10 minutes, doubling, at most a
 * day. Only a safety net — the watch below makes the wish due as soon as the account appears.
 */
export function loginRecheckMs(attempts: number): number {
  return backoffMs(attempts, LOGIN_RECHECK_MS, LOGIN_RECHECK_MAX_MS);
}

/** After this long, no new account is created with a given creation second (clock skew margin). */
const SECOND_SETTLED_MS = 10_000;

export interface LoginWatch {
  /** Looks once; returns how many waiting people appeared (their wishes are now due). */
  poll(): Promise<number>;
}

export interface LoginWatchOptions {
  /** Calls as the bot. */
  readonly synapse: SynapseCaller;
  readonly store: WishStore;
  readonly log: Logger;
  /** Pages read per look at most (100 accounts each); the rest waits for the next look. */
  readonly maxPages?: number;
  /** The time in ms since the epoch. @default Date.now */
  readonly now?: () => number;
}

export function createLoginWatch(o: LoginWatchOptions): LoginWatch {
  const maxPages = o.maxPages ?? 10;
  const now = o.now ?? Date.now;
  let mark: LoginWatermark | null | undefined; // undefined: not read from KV yet

  /** Every waiting wish due now: after a first start or a lost watermark, once. */
  async function catchUp(): Promise<number> {
    let due = 0;
    for (const p of await o.store.listPending()) {
      const record = await o.store.get(p.userId);
      if (record?.waitingFor === WAITING_FOR_LOGIN && await o.store.markDue(p.userId)) due++;
    }
    return due;
  }

  return {
    async poll() {
      if (mark === undefined) mark = await o.store.getLoginWatermark();
      const fresh: Array<{ userId: string; createdAt: number }> = [];
      let from: string | undefined;
      let reachedMark = false;
      for (let page = 0; page < maxPages && !reachedMark; page++) {
        const { users, next } = await newestUsers(
          o.synapse,
          from === undefined ? {} : { from },
        );
        for (const u of users) {
          // Synapse keeps creation times in whole seconds: accounts of the same second come in
          // any order, so only an older second ends the look; the same second is checked by name.
          if (mark !== null && u.createdAt < mark.createdAt) {
            reachedMark = true;
            break;
          }
          if (mark !== null && u.createdAt === mark.createdAt && mark.userIds.includes(u.userId)) {
            continue;
          }
          fresh.push(u);
        }
        if (next === null || mark === null) break; // a first look needs only the newest
        // Nothing new on this page and the watermark's second is long over: no account can still
        // appear in it, and the ones of it further down were seen when the watermark was set.
        // (Without this, more than a page of accounts created in one second costs every look a
        // second page until someone new appears.)
        if (fresh.length === 0 && now() - mark.createdAt > SECOND_SETTLED_MS) break;
        from = next;
      }
      const first = mark === null;
      if (fresh.length > 0) {
        const newest = Math.max(...fresh.map((u) => u.createdAt), mark?.createdAt ?? 0);
        const atNewest = fresh.filter((u) => u.createdAt === newest).map((u) => u.userId);
        mark = {
          version: 1,
          createdAt: newest,
          userIds: newest === mark?.createdAt ? [...mark.userIds, ...atNewest] : atNewest,
        };
        await o.store.setLoginWatermark(mark);
      }
      if (first) {
        mark ??= { version: 1, createdAt: 0, userIds: [] };
        const due = await catchUp();
        if (due > 0) o.log.info("looking again at everyone waiting for a first login", { due });
        return due;
      }
      let appeared = 0;
      for (const u of fresh) {
        const record = await o.store.get(u.userId);
        if (record?.waitingFor === WAITING_FOR_LOGIN && await o.store.markDue(u.userId)) {
          appeared++;
        }
      }
      if (appeared > 0) o.log.debug("new Matrix accounts of people waiting", { appeared });
      return appeared;
    },
  };
}
