/**
 * @module The bootstrap's room step: find each room by alias or create it (surviving alias
 * races), created with the spec's state from its first event. Bringing existing rooms to the
 * spec is `state.ts`, shared with the drift pass.
 */
import type { Logger } from "../log/logger.ts";
import {
  ROOM_KEYS,
  roomAlias,
  type RoomIds,
  type RoomKey,
  roomText,
} from "../matrix/deployment.ts";
import type { SynapseCaller } from "../synapse/http.ts";
import { createRoom, makeRoomAdmin, resolveAlias } from "../synapse/rooms.ts";
import { roomMembers } from "../synapse/membership.ts";
import { desiredPowerLevels, ENCRYPTION, ROOM_VERSION } from "./spec.ts";

export interface RoomContext {
  /** Calls as the bot, with the token the bootstrap just obtained. */
  readonly synapse: SynapseCaller;
  readonly botUserId: string;
  readonly deployment: string;
  readonly serverName: string;
  readonly log: Logger;
}

/** Looks every room up by alias and creates the missing ones. Never creates a duplicate. */
export async function ensureRooms(ctx: RoomContext): Promise<{ ids: RoomIds; created: RoomKey[] }> {
  const ids: Partial<Record<RoomKey, string>> = {};
  const created: RoomKey[] = [];
  for (const key of ROOM_KEYS) {
    const alias = roomAlias(ctx.deployment, key, ctx.serverName);
    // Bounded: a taken alias means another creator won, and the next lookup finds its room.
    for (let attempt = 0; ids[key] === undefined; attempt++) {
      if (attempt >= 5) throw new Error(`Cannot find or create ${alias}: the alias keeps changing`);
      const existing = await resolveAlias(ctx.synapse, alias);
      if (existing !== null) {
        await _adopt(ctx, key, alias, existing);
        ids[key] = existing;
        break;
      }
      const result = await createRoom(ctx.synapse, _createBody(key, ctx, ids.space));
      if (result.kind === "created") {
        ids[key] = result.roomId;
        created.push(key);
        ctx.log.info("created room", { room: key, alias, room_id: result.roomId });
      } else {
        ctx.log.warn("room alias taken while creating; looking it up again", { alias });
      }
    }
  }
  return { ids: ids as RoomIds, created };
}

/**
 * A room found by alias that the bot is not in (the bot was renamed, or the room was made by
 * hand): the admin API makes the bot a member with the highest level, so it can manage it.
 */
async function _adopt(
  ctx: RoomContext,
  key: RoomKey,
  alias: string,
  roomId: string,
): Promise<void> {
  const isMember = async () => (await roomMembers(ctx.synapse, roomId)).includes(ctx.botUserId);
  if (await isMember()) return;
  // The alias can appear a moment before its creator's join does (another creator racing us).
  await new Promise((r) => setTimeout(r, 500));
  if (await isMember()) return;
  await makeRoomAdmin(ctx.synapse, roomId, ctx.botUserId);
  ctx.log.warn("adopted an existing room the bot was not in", {
    room: key,
    alias,
    room_id: roomId,
  });
}

function _createBody(
  key: RoomKey,
  ctx: RoomContext,
  spaceId: string | undefined,
): Record<string, unknown> {
  const text = roomText(key, ctx.deployment);
  const initialState: Array<Record<string, unknown>> = [];
  if (key !== "space") {
    initialState.push(
      { type: "m.room.encryption", state_key: "", content: { algorithm: ENCRYPTION } },
      {
        type: "m.room.history_visibility",
        state_key: "",
        content: { history_visibility: "joined" },
      },
    );
  }
  if (key !== "space" && key !== "admin" && spaceId !== undefined) {
    // Restricted from the first event, so the room is never open to anyone in between.
    initialState.push({
      type: "m.room.join_rules",
      state_key: "",
      content: {
        join_rule: "restricted",
        allow: [{ type: "m.room_membership", room_id: spaceId }],
      },
    });
  }
  return {
    room_alias_name: `${ctx.deployment}-${key}`,
    room_version: ROOM_VERSION,
    preset: "private_chat",
    visibility: "private",
    ...(text.name !== null ? { name: text.name } : {}),
    ...(text.topic !== null ? { topic: text.topic } : {}),
    ...(key === "space" ? { creation_content: { type: "m.space" } } : {}),
    initial_state: initialState,
    // Complete maps: the override is shallow, and a partial `events` would drop Synapse's defaults.
    power_level_content_override: desiredPowerLevels(null, key, ctx.botUserId),
  };
}
