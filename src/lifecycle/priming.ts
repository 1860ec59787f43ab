/**
 * @module Priming a burst: the power-level part of every due wish is handed to the serialiser at
 * once, before the slower joins, so a burst of promotions costs one power-level write per room,
 * not one per person. Converging the same generation right after then neither looks the account
 * up nor writes the level again. Only accounts that exist get a level: entries for people who
 * never logged in would grow `m.room.power_levels` until Synapse refuses it.
 */
import type { RoomIds } from "../matrix/deployment.ts";
import type { PowerLevelWriter } from "../rooms/power_levels.ts";
import type { WishStore } from "../store/wishes.ts";
import type { SynapseCaller } from "../synapse/http.ts";
import { getUser } from "../synapse/users.ts";
import type { Prepared } from "./converge.ts";
import { wantedLevel } from "./plan.ts";
import { PUBLIC_ROOMS } from "../rooms/spec.ts";

/** How long what priming learnt may stand in for a look of converging's own. */
const PREPARED_MS = 10_000;

export interface Primer {
  /** Primes the wishes of `due` not primed at their generation yet (nothing for one alone). */
  prime(
    due: ReadonlyArray<{ readonly userId: string; readonly generation: number }>,
    rooms: RoomIds,
    signal: AbortSignal,
  ): Promise<void>;
  /** What priming learnt about `generation` of `userId`, once; `{}` when nothing recent. */
  take(userId: string, generation: number): Prepared;
  /** Resolves when every level write priming handed off has ended. */
  drain(): Promise<void>;
}

export interface PrimerOptions {
  readonly store: WishStore;
  readonly synapse: SynapseCaller;
  readonly levels: PowerLevelWriter;
  /** Notes a failed look; true when Synapse serves nobody (priming then stops looking). */
  readonly noteOutage: (err: unknown) => boolean;
  readonly now: () => number;
}

export function createPrimer(o: PrimerOptions): Primer {
  const primed = new Map<string, number>(); // userId → generation primed
  const writes = new Set<Promise<unknown>>();
  const prepared = new Map<string, Prepared & { generation: number; at: number }>();

  async function prime(
    due: ReadonlyArray<{ readonly userId: string; readonly generation: number }>,
    rooms: RoomIds,
    signal: AbortSignal,
  ): Promise<void> {
    const fresh = due.filter((p) => primed.get(p.userId) !== p.generation);
    if (fresh.length <= 1 || signal.aborted) return;
    const records = await Promise.all(fresh.map((p) => o.store.get(p.userId).catch(() => null)));
    const candidates = records.flatMap((record, i) => {
      const p = fresh[i]!;
      primed.set(p.userId, p.generation);
      // A revocation's levels go with its deactivation; a wish with no level has none to prime.
      const wanted = record === null || record.revoked ? null : wantedLevel(record);
      return wanted === null ? [] : [{ p, level: wanted.level }];
    });
    // The first look alone: if Synapse cannot answer it, nobody else is looked up this round.
    let down = false;
    const people = await inBatches(candidates, 16, async (c) => {
      if (down || signal.aborted) return null;
      const user = await getUser(o.synapse, c.p.userId).catch((err) => {
        if (o.noteOutage(err)) down = true;
        return null;
      });
      // Missing, deactivated or a server admin (not a person): converging decides, not priming.
      return user === null || user.deactivated || user.admin ? null : { ...c, user };
    });
    for (const c of people) {
      if (c === null) continue;
      const { p, level, user } = c;
      const write = Promise.all(
        PUBLIC_ROOMS.map((key) => o.levels.set(rooms[key], { userId: p.userId, level })),
      ).then(() => true, () => false);
      writes.add(write);
      write.finally(() => writes.delete(write));
      prepared.set(p.userId, { generation: p.generation, at: o.now(), user, levels: write });
    }
    if (primed.size > 10_000) primed.clear();
    for (const [userId, p] of prepared) if (o.now() - p.at >= PREPARED_MS) prepared.delete(userId);
  }

  return {
    prime,
    take: function takePrepared(userId, generation) {
      const p = prepared.get(userId);
      prepared.delete(userId);
      return p !== undefined && p.generation === generation && o.now() - p.at < PREPARED_MS
        ? p
        : {};
    },
    drain: async function drain() {
      await Promise.allSettled([...writes]);
    },
  };
}

/** `fn` over `items`: the first alone, then at most `size` at a time; results in order. */
async function inBatches<T, R>(
  items: readonly T[],
  size: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  if (items.length === 0) return [];
  const out: R[] = [await fn(items[0]!)];
  for (let i = 1; i < items.length; i += size) {
    out.push(...await Promise.all(items.slice(i, i + size).map(fn)));
  }
  return out;
}
