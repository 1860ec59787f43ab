/** @module Synapse membership APIs for the lifecycle: admin join, kick, and a user's joined rooms. */
import { z } from "zod";
import { enc, notFound, type SynapseCaller, SynapseError } from "./http.ts";

export type JoinResult = "joined" | "alreadyJoined" | "userMissing";

/**
 * Joins `userId` to `roomId` with the admin API (the bot invites first where the room needs it).
 * Synapse answers an existing membership of a non-public room with a plain 403 M_FORBIDDEN, the
 * same errcode as a real refusal; instead of reading the message we ask Synapse who is a member.
 */
export async function adminJoin(
  synapse: SynapseCaller,
  roomId: string,
  userId: string,
): Promise<JoinResult> {
  try {
    await synapse.call({
      method: "POST",
      path: `/_synapse/admin/v1/join/${enc(roomId)}`,
      json: { user_id: userId },
      schema: z.object({ room_id: z.string() }).loose(),
    });
    return "joined";
  } catch (err) {
    if (err instanceof SynapseError) {
      if (notFound(err)) return "userMissing";
      if (err.status === 403 && (await roomMembers(synapse, roomId)).includes(userId)) {
        return "alreadyJoined";
      }
    }
    throw err;
  }
}

export type KickResult = "kicked" | "notInRoom";

/** Removes `userId` from `roomId`; a user who is not in the room is an outcome, not an error. */
export async function kick(
  synapse: SynapseCaller,
  roomId: string,
  userId: string,
  reason: string,
): Promise<KickResult> {
  try {
    await synapse.call({
      method: "POST",
      path: `/_matrix/client/v3/rooms/${enc(roomId)}/kick`,
      json: { user_id: userId, reason },
      schema: z.unknown(),
    });
    return "kicked";
  } catch (err) {
    // "not in the room" is a 403 M_FORBIDDEN like "cannot kick": confirm with the member list.
    if (
      err instanceof SynapseError && err.status === 403 &&
      !(await roomMembers(synapse, roomId)).includes(userId)
    ) {
      return "notInRoom";
    }
    throw err;
  }
}

/** Rooms `userId` is joined to (admin API). */
export async function joinedRooms(
  synapse: SynapseCaller,
  userId: string,
): Promise<string[]> {
  const r = await synapse.call({
    method: "GET",
    path: `/_synapse/admin/v1/users/${enc(userId)}/joined_rooms`,
    schema: z.object({ joined_rooms: z.array(z.string()) }),
  });
  return r.joined_rooms;
}

/** Members of `roomId` (admin API, no membership needed). */
export async function roomMembers(
  synapse: SynapseCaller,
  roomId: string,
): Promise<string[]> {
  const r = await synapse.call({
    method: "GET",
    path: `/_synapse/admin/v1/rooms/${enc(roomId)}/members`,
    schema: z.object({ members: z.array(z.string()) }),
  });
  return r.members;
}
