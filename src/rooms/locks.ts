/**
 * @module One lock per room for `m.room.power_levels`: Synapse has no compare-and-set for state,
 * so every read-modify-write of a room's power levels in this process takes its room's turn
 * here — the lifecycle's serialiser, the bootstrap and the drift pass alike.
 */

export interface RoomLocks {
  /** Runs `fn` while no other power-level change of `roomId` is in progress in this process. */
  exclusive<T>(roomId: string, fn: () => Promise<T>): Promise<T>;
}

export function createRoomLocks(): RoomLocks {
  const chains = new Map<string, Promise<unknown>>();
  return {
    exclusive: function exclusive<T>(roomId: string, fn: () => Promise<T>): Promise<T> {
      const previous = chains.get(roomId) ?? Promise.resolve();
      const run = previous.then(fn, fn);
      const tail = run.catch(() => {});
      chains.set(roomId, tail);
      tail.then(() => {
        if (chains.get(roomId) === tail) chains.delete(roomId);
      });
      return run;
    },
  };
}
