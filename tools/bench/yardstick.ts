/**
 * @module The yardsticks: the same Synapse work done straight against Synapse, without the
 * service — admin joins at the best concurrency found, and promotions the only safe way without
 * coalescing (one read-modify-write per room per person, one after another).
 */
import type { SynapseHttp } from "../../src/synapse/http.ts";
import { adminJoin } from "../../src/synapse/membership.ts";
import { getState, putState } from "../../src/synapse/rooms.ts";
import type { RoomIds } from "../../src/matrix/deployment.ts";

const PUBLIC = ["space", "general", "helpdesk", "offtopic"] as const;

/** Joins every user to the Space and public rooms with `concurrency` users at a time. */
export async function directJoins(
  http: SynapseHttp,
  token: string,
  rooms: RoomIds,
  users: readonly string[],
  concurrency: number,
  onDone: (count: number) => void = () => {},
): Promise<number> {
  const started = performance.now();
  let next = 0;
  let done = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < users.length) {
      const user = users[next++]!;
      for (const key of PUBLIC) await adminJoin(http.as(token), rooms[key], user);
      onDone(++done);
    }
  }));
  return performance.now() - started;
}

/** Tries a few concurrencies on small samples and returns the fastest per user. */
export async function bestConcurrency(
  http: SynapseHttp,
  token: string,
  rooms: RoomIds,
  sample: (n: number) => Promise<string[]>,
): Promise<{ concurrency: number; msPerUser: Record<number, number> }> {
  const msPerUser: Record<number, number> = {};
  for (const c of [1, 4, 8, 16, 32]) {
    const users = await sample(24);
    msPerUser[c] = (await directJoins(http, token, rooms, users, c)) / users.length;
  }
  const best = Object.entries(msPerUser).sort((a, b) => a[1] - b[1])[0]!;
  return { concurrency: Number(best[0]), msPerUser };
}

/** Promotes each user in turn: per room read, modify, write; then the admin-room join. */
export async function directPromotions(
  http: SynapseHttp,
  token: string,
  rooms: RoomIds,
  users: readonly string[],
  onDone: (count: number) => void = () => {},
): Promise<number> {
  const started = performance.now();
  let done = 0;
  for (const user of users) {
    for (const key of PUBLIC) {
      const pl = await getState(http.as(token), rooms[key], "m.room.power_levels");
      const usersMap = { ...(pl?.users as Record<string, number>), [user]: 100 };
      await putState(http.as(token), rooms[key], "m.room.power_levels", "", {
        ...pl,
        users: usersMap,
      });
    }
    await adminJoin(http.as(token), rooms.admin, user);
    onDone(++done);
  }
  return performance.now() - started;
}

/**
 * The physical floor of a promotion storm: the admin-room joins at `concurrency` people at a
 * time and, alongside them, one power-level write per public room (read, set every user to 100,
 * write). Less Synapse work than this no correct promotion of `users` can do.
 */
export async function floorPromotions(
  http: SynapseHttp,
  token: string,
  rooms: RoomIds,
  users: readonly string[],
  concurrency: number,
): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all([
    ...Array.from({ length: concurrency }, async () => {
      while (next < users.length) await adminJoin(http.as(token), rooms.admin, users[next++]!);
    }),
    ...PUBLIC.map(async (key) => {
      const pl = await getState(http.as(token), rooms[key], "m.room.power_levels");
      const usersMap = {
        ...(pl?.users as Record<string, number>),
        ...Object.fromEntries(users.map((u) => [u, 100])),
      };
      await putState(http.as(token), rooms[key], "m.room.power_levels", "", {
        ...pl,
        users: usersMap,
      });
    }),
  ]);
  return performance.now() - started;
}
