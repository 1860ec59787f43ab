/**
 * @module The per-room power-level serialiser. Synapse's `m.room.power_levels` has no
 * compare-and-set, so every change in this process goes through one queue per room: read fresh,
 * apply every change waiting at that moment (coalescing concurrent promotions into one write),
 * write, read back, and only then resolve the callers.
 */
import type { SynapseCaller } from "../synapse/http.ts";
import { getState, putState } from "../synapse/rooms.ts";
import { PowerLevels } from "./spec.ts";
import { createRoomLocks, type RoomLocks } from "./locks.ts";

/** A user's wanted level in a room; `null` = back to the room's default (removed from `users`). */
export type LevelChange = { readonly userId: string; readonly level: number | null };

interface Waiting {
  readonly change: LevelChange;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

export interface PowerLevelWriter {
  /** Resolves once Synapse shows the change (read back), rejects if the write failed. */
  set(roomId: string, change: LevelChange): Promise<void>;
  /** Counters for tests and metrics. */
  stats(): { writes: number; changes: number };
}

export interface PowerLevelWriterOptions {
  /** How long a flush waits for more changes to join it. @default 25 */
  readonly lingerMs?: number;
  /** The process's room locks, shared with the bootstrap and the drift pass. @default its own */
  readonly locks?: RoomLocks;
}

export function createPowerLevelWriter(
  /** Calls as the bot. */
  synapse: SynapseCaller,
  options: PowerLevelWriterOptions = {},
): PowerLevelWriter {
  const lingerMs = options.lingerMs ?? 25;
  const { exclusive } = options.locks ?? createRoomLocks();
  const queues = new Map<string, Waiting[]>();
  const running = new Set<string>();
  let writes = 0;
  let changes = 0;

  async function flush(roomId: string): Promise<void> {
    running.add(roomId);
    try {
      for (;;) {
        // A short linger lets changes that arrive together share one write.
        await new Promise((r) => setTimeout(r, lingerMs));
        const batch = queues.get(roomId) ?? [];
        queues.delete(roomId);
        if (batch.length === 0) return;
        try {
          await exclusive(roomId, () => _applyBatch(roomId, batch.map((w) => w.change)));
          for (const w of batch) w.resolve();
        } catch (err) {
          for (const w of batch) w.reject(err);
        }
        // Linger again only for changes that arrived during the write; otherwise stop now, so
        // no timer outlives the last caller's promise.
        if ((queues.get(roomId)?.length ?? 0) === 0) return;
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
    changes += batch.length;
    if (!dirty) return;
    await putState(synapse, roomId, "m.room.power_levels", "", { ...current, users });
    writes++;
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
    set(roomId, change) {
      return new Promise<void>((resolve, reject) => {
        const queue = queues.get(roomId) ?? [];
        queue.push({ change, resolve, reject });
        queues.set(roomId, queue);
        if (!running.has(roomId)) void flush(roomId);
      });
    },
    stats: () => ({ writes, changes }),
  };
}
