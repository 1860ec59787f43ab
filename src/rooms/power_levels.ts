/**
 * @module The per-room power-level writer. Synapse's `m.room.power_levels` has no compare-and-set,
 * so every change in this process goes through one queue per room: read fresh, apply every change
 * waiting at that moment, write, read back, and only then resolve the callers. A batch planned
 * together (the worker's round) is one `write()`; changes that arrive while a room's write runs
 * go together in its next one.
 */
import type { SynapseCaller } from "../synapse/http.ts";
import { getState, putState } from "../synapse/rooms.ts";
import { PowerLevels } from "./spec.ts";
import { createRoomLocks, type RoomLocks } from "./locks.ts";

/** A user's wanted level in a room; `null` = back to the room's default (removed from `users`). */
export type LevelChange = { readonly userId: string; readonly level: number | null };

interface Waiting {
  readonly changes: readonly LevelChange[];
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

export interface PowerLevelWriter {
  /**
   * Applies `changes` to `roomId` (a later change for the same user wins); resolves once Synapse
   * shows them (read back), rejects if the write failed.
   */
  write(roomId: string, changes: readonly LevelChange[]): Promise<void>;
}

export function createPowerLevelWriter(
  /** Calls as the bot. */
  synapse: SynapseCaller,
  /** The process's room locks, shared with the bootstrap and the drift pass. @default its own */
  locks: RoomLocks = createRoomLocks(),
): PowerLevelWriter {
  const queues = new Map<string, Waiting[]>();
  const running = new Set<string>();

  async function flush(roomId: string): Promise<void> {
    running.add(roomId);
    try {
      // Writes asked for in the same turn of the event loop go together.
      await null;
      for (;;) {
        const batch = queues.get(roomId) ?? [];
        queues.delete(roomId);
        if (batch.length === 0) return;
        try {
          await locks.exclusive(roomId, () => _applyBatch(roomId, batch.flatMap((w) => w.changes)));
          for (const w of batch) w.resolve();
        } catch (err) {
          for (const w of batch) w.reject(err);
        }
      }
    } finally {
      running.delete(roomId);
    }
  }

  async function _applyBatch(roomId: string, batch: readonly LevelChange[]): Promise<void> {
    const current = await getState(synapse, roomId, "m.room.power_levels", "", PowerLevels);
    if (current === null) throw new Error(`Room ${roomId} has no power levels`);
    const users = { ...current.users };
    let dirty = false;
    // Later changes for the same user win: the batch is in arrival order.
    for (const { userId, level } of batch) {
      if (level === null) {
        if (userId in users) {
          delete users[userId];
          dirty = true;
        }
      } else if (users[userId] !== level) {
        users[userId] = level;
        dirty = true;
      }
    }
    if (!dirty) return;
    await putState(synapse, roomId, "m.room.power_levels", "", { ...current, users });
    const after = await getState(synapse, roomId, "m.room.power_levels", "", PowerLevels);
    const shown = after?.users ?? {};
    // Every level written, and every removal: an entry still shown is a change that did not stick.
    for (const userId of new Set([...Object.keys(users), ...batch.map((c) => c.userId)])) {
      if (shown[userId] !== users[userId]) {
        throw new Error(`Power level of ${userId} in ${roomId} did not stick`);
      }
    }
  }

  return {
    write(roomId, changes) {
      if (changes.length === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const queue = queues.get(roomId) ?? [];
        queue.push({ changes, resolve, reject });
        queues.set(roomId, queue);
        if (!running.has(roomId)) void flush(roomId);
      });
    },
  };
}
