/**
 * @module Synapse room APIs: alias lookup and room creation (the bootstrap), and state read and
 * write (the bootstrap, the drift pass and the power-level writer).
 */
import { z } from "zod";
import { enc, notFound, type SynapseCaller, SynapseError } from "./http.ts";

/** The room an alias points at, or `null` when the alias is free. */
export async function resolveAlias(
  synapse: SynapseCaller,
  alias: string,
): Promise<string | null> {
  try {
    const r = await synapse.call({
      method: "GET",
      path: `/_matrix/client/v3/directory/room/${enc(alias)}`,
      schema: z.object({ room_id: z.string().min(1) }),
    });
    return r.room_id;
  } catch (err) {
    if (notFound(err)) return null;
    throw err;
  }
}

export type CreateRoomResult =
  | { readonly kind: "created"; readonly roomId: string }
  | { readonly kind: "aliasTaken" };

/** Creates a room; a taken alias (400 `M_ROOM_IN_USE`, or 409 when two creates race) is an outcome. */
export async function createRoom(
  synapse: SynapseCaller,
  body: Record<string, unknown>,
): Promise<CreateRoomResult> {
  try {
    const r = await synapse.call({
      method: "POST",
      path: "/_matrix/client/v3/createRoom",
      json: body,
      schema: z.object({ room_id: z.string().min(1) }),
    });
    return { kind: "created", roomId: r.room_id };
  } catch (err) {
    if (err instanceof SynapseError && (err.errcode === "M_ROOM_IN_USE" || err.status === 409)) {
      return { kind: "aliasTaken" };
    }
    throw err;
  }
}

const StateEvent = z.object({
  type: z.string(),
  state_key: z.string(),
  content: z.record(z.string(), z.unknown()),
}).loose();
export type StateEvent = z.infer<typeof StateEvent>;

/** The room's whole current state through the admin API (no membership needed). */
export async function roomState(
  synapse: SynapseCaller,
  roomId: string,
): Promise<StateEvent[]> {
  const r = await synapse.call({
    method: "GET",
    path: `/_synapse/admin/v1/rooms/${enc(roomId)}/state`,
    schema: z.object({ state: z.array(StateEvent) }),
  });
  return r.state;
}

/** One state event's content parsed with `schema` (any object by default), or `null` when the room has none. */
export async function getState<T = Record<string, unknown>>(
  synapse: SynapseCaller,
  roomId: string,
  type: string,
  stateKey = "",
  schema: z.ZodType<T> = z.record(z.string(), z.unknown()) as unknown as z.ZodType<T>,
): Promise<T | null> {
  try {
    return await synapse.call({
      method: "GET",
      path: `/_matrix/client/v3/rooms/${enc(roomId)}/state/${enc(type)}/${enc(stateKey)}`,
      schema,
    });
  } catch (err) {
    if (notFound(err)) return null;
    throw err;
  }
}

/**
 * Makes `userId` a member with the highest power level of `roomId` (admin API; Synapse uses a
 * local room admin to invite and promote).
 */
export async function makeRoomAdmin(
  synapse: SynapseCaller,
  roomId: string,
  userId: string,
): Promise<void> {
  await synapse.call({
    method: "POST",
    path: `/_synapse/admin/v1/rooms/${enc(roomId)}/make_room_admin`,
    json: { user_id: userId },
    schema: z.unknown(),
  });
}

/** Writes one state event (the whole content: there is no merge and no compare-and-set). */
export async function putState(
  synapse: SynapseCaller,
  roomId: string,
  type: string,
  stateKey: string,
  content: Record<string, unknown>,
): Promise<string> {
  const r = await synapse.call({
    method: "PUT",
    path: `/_matrix/client/v3/rooms/${enc(roomId)}/state/${enc(type)}/${enc(stateKey)}`,
    json: content,
    schema: z.object({ event_id: z.string() }),
  });
  return r.event_id;
}
