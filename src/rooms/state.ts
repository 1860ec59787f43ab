/**
 * @module The one routine that brings the rooms' managed state to the spec: every state event
 * whose content differs is written, and power levels are merged into what the room has, read
 * fresh and written inside the per-room serialiser. The bootstrap runs it to set rooms up; the
 * drift pass runs it to repair hand edits (and to keep admins' levels per the recorded wishes).
 */
import type { Logger } from "../log/logger.ts";
import { ROOM_KEYS, type RoomIds, type RoomKey } from "../matrix/deployment.ts";
import type { SynapseCaller } from "../synapse/http.ts";
import { putState, roomState } from "../synapse/rooms.ts";
import type { RoomLocks } from "./locks.ts";
import { deepEqual, desiredPowerLevels, PowerLevels, roomStateSpec } from "./spec.ts";

export interface RoomStateContext {
  /** Calls as the bot (during the bootstrap, with the token it just obtained). */
  readonly synapse: SynapseCaller;
  readonly rooms: RoomIds;
  readonly botUserId: string;
  readonly deployment: string;
  readonly serverName: string;
  /** The process's room locks: no other level change of a room runs meanwhile. */
  readonly locks: RoomLocks;
  readonly log: Logger;
}

export interface RoomStateOptions {
  /** `bootstrap` sets rooms up (logged as info); `drift` repairs them (logged as a warning). */
  readonly purpose: "bootstrap" | "drift";
  /** Find and log the differences, write nothing. */
  readonly dryRun?: boolean;
  /**
   * Adjusts a room's wanted `users` levels (the bot's is already in); `joined` is who is a
   * member now. The drift pass sets admins' levels here.
   */
  readonly users?: (
    key: RoomKey,
    users: Record<string, number>,
    joined: ReadonlySet<string>,
  ) => void;
}

/** One difference found (and written, unless it was a dry run). */
export interface RoomStateChange {
  readonly room: RoomKey;
  readonly type: string;
  readonly stateKey: string;
}

export async function reconcileRoomState(
  ctx: RoomStateContext,
  options: RoomStateOptions,
): Promise<RoomStateChange[]> {
  const changes: RoomStateChange[] = [];
  const dryRun = options.dryRun ?? false;
  const note = (room: RoomKey, type: string, stateKey: string) => {
    changes.push({ room, type, stateKey });
    if (options.purpose === "bootstrap") {
      ctx.log.info("set room state", { room, type, state_key: stateKey });
    } else {
      ctx.log.warn("drift: room state differs from the spec", { room, type, dry_run: dryRun });
    }
  };
  for (const key of ROOM_KEYS) {
    const roomId = ctx.rooms[key];
    const state = await roomState(ctx.synapse, roomId);
    const current = (type: string, stateKey: string) =>
      state.find((e) => e.type === type && e.state_key === stateKey)?.content ?? null;
    for (const spec of roomStateSpec(key, ctx.rooms, ctx.deployment, ctx.serverName)) {
      const now = current(spec.type, spec.stateKey);
      if (now !== null && spec.satisfiedBy(now)) continue;
      note(key, spec.type, spec.stateKey);
      if (!dryRun) await putState(ctx.synapse, roomId, spec.type, spec.stateKey, spec.content);
    }
    const joined = new Set(
      state.filter((e) => e.type === "m.room.member" && e.content.membership === "join")
        .map((e) => e.state_key),
    );
    await ctx.locks.exclusive(roomId, async () => {
      const fresh = await _powerLevels(ctx.synapse, roomId);
      const desired = desiredPowerLevels(fresh, key, ctx.botUserId);
      options.users?.(key, desired.users, joined);
      if (deepEqual(fresh, desired)) return;
      note(key, "m.room.power_levels", "");
      if (!dryRun) await putState(ctx.synapse, roomId, "m.room.power_levels", "", desired);
    });
  }
  return changes;
}

/**
 * The room's power levels read fresh through the admin API, which answers whether or not the bot
 * has joined (a room adopted by alias has only invited it).
 */
async function _powerLevels(synapse: SynapseCaller, roomId: string): Promise<PowerLevels | null> {
  const event = (await roomState(synapse, roomId)).find((e) =>
    e.type === "m.room.power_levels" && e.state_key === ""
  );
  return event === undefined ? null : PowerLevels.parse(event.content);
}
