/**
 * @module Where the ingest bot belongs — the Space, the public rooms and every child of the Space,
 * never the admin room — and the pass that joins it wherever it is missing. One pass costs the
 * same few requests however many rooms there are (the Space's child list in one hierarchy page,
 * the bot's joined rooms), plus one join per room it is missing from.
 */
import { z } from "zod";
import type { RoomIds } from "../matrix/deployment.ts";
import { enc, type SynapseCaller, SynapseError } from "../synapse/http.ts";
import { adminJoin, joinedRooms } from "../synapse/membership.ts";

const Hierarchy = z.object({
  rooms: z.array(
    z.object({
      room_id: z.string(),
      children_state: z.array(
        z.object({
          type: z.string(),
          state_key: z.string(),
          content: z.record(z.string(), z.unknown()),
        }).loose(),
      ).default([]),
    }).loose(),
  ),
});

/** The Space's current children: `m.space.child` events with a non-empty `via` (the rest are removed links). */
export async function spaceChildren(admin: SynapseCaller, spaceId: string): Promise<string[]> {
  // The first entry of the hierarchy is the Space itself, with every child link in children_state.
  const r = await admin.call({
    method: "GET",
    path: `/_matrix/client/v1/rooms/${enc(spaceId)}/hierarchy`,
    searchParams: { max_depth: "1", limit: "1" },
    schema: Hierarchy,
  });
  const space = r.rooms.find((room) => room.room_id === spaceId);
  return (space?.children_state ?? [])
    .filter((e) =>
      e.type === "m.space.child" && Array.isArray(e.content["via"]) && e.content["via"].length > 0
    )
    .map((e) => e.state_key);
}

/** Pure: the rooms the bot should be in and is not. */
export function missingRooms(
  rooms: RoomIds,
  children: readonly string[],
  joined: readonly string[],
): string[] {
  const wanted = new Set([rooms.space, rooms.general, rooms.helpdesk, rooms.offtopic, ...children]);
  wanted.delete(rooms.admin);
  for (const r of joined) wanted.delete(r);
  return [...wanted].sort();
}

export interface JoinPass {
  readonly joined: string[];
  /** Rooms it could not be joined to (e.g. an invite-only child our bot is not in), with why. */
  readonly failed: Array<{ roomId: string; reason: string }>;
  /** How many rooms the bot is in after the pass. */
  inRooms: number;
}

/** Joins the ingest bot wherever it is missing; one failed room does not stop the others. */
export async function joinIngestBot(
  admin: SynapseCaller,
  rooms: RoomIds,
  botUserId: string,
): Promise<JoinPass> {
  const children = await spaceChildren(admin, rooms.space);
  const joined = await joinedRooms(admin, botUserId);
  const missing = missingRooms(rooms, children, joined);
  const pass: JoinPass = { joined: [], failed: [], inRooms: joined.length };
  for (const roomId of missing) {
    try {
      const r = await adminJoin(admin, roomId, botUserId);
      if (r === "userMissing") throw new Error(`Synapse has no user ${botUserId}`);
      pass.joined.push(roomId);
      pass.inRooms++;
    } catch (err) {
      if (!(err instanceof SynapseError)) throw err;
      pass.failed.push({ roomId, reason: err.message });
    }
  }
  return pass;
}
