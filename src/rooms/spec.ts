/**
 * @module What the deployment's rooms must look like: names, topics, join rules, encryption,
 * history, Space links and power levels — as pure functions of the room IDs, so the same spec
 * drives creation, the bootstrap's state pass and the drift pass (`./state.ts`), and which rooms
 * people join (`PUBLIC_ROOMS`) with which level (`ADMIN_LEVEL`).
 */
import { z } from "zod";
import { type RoomIds, type RoomKey, roomText } from "../matrix/deployment.ts";

export const ROOM_VERSION = "11";
export const ENCRYPTION = "m.megolm.v1.aes-sha2";
export const BOT_LEVEL = 200;
/** A deploy-app admin's level in the public rooms. */
export const ADMIN_LEVEL = 100;
/** The rooms every person joins (and where admins get `ADMIN_LEVEL`); the admin room is apart. */
export const PUBLIC_ROOMS = ["space", "general", "helpdesk", "offtopic"] as const;

/**
 * `m.room.power_levels` as Synapse keeps it: the fields we read are typed, every other field is
 * kept as it is (a write carries the whole content back).
 */
export const PowerLevels = z.object({
  users: z.record(z.string(), z.unknown()).transform(_levels).optional(),
  events: z.record(z.string(), z.unknown()).transform(_levels).optional(),
}).loose();
export type PowerLevels = z.infer<typeof PowerLevels>;

/** Synapse's own defaults (synapse/handlers/room.py); sent in full because overrides are shallow. */
export const SYNAPSE_DEFAULT_LEVELS = {
  users_default: 0,
  events_default: 0,
  state_default: 50,
  ban: 50,
  kick: 50,
  redact: 50,
  invite: 50,
} as const;
export const SYNAPSE_DEFAULT_EVENT_LEVELS: Readonly<Record<string, number>> = {
  "m.room.name": 50,
  "m.room.power_levels": 100,
  "m.room.history_visibility": 100,
  "m.room.canonical_alias": 50,
  "m.room.avatar": 50,
  "m.room.tombstone": 100,
  "m.room.server_acl": 100,
  "m.room.encryption": 100,
};
/** Events that must stay at 100 whatever someone did by hand (the original lowered them to 50). */
export const PROTECTED_EVENTS = [
  "m.room.power_levels",
  "m.room.history_visibility",
  "m.room.tombstone",
  "m.room.server_acl",
  "m.room.encryption",
] as const;
/** Calls must work for everybody (level 0), as in the original. */
export const CALL_EVENTS = [
  "m.call.invite",
  "m.call.answer",
  "m.call.hangup",
  "m.call.candidates",
  "m.call.negotiate",
  "m.call.reject",
  "m.call.select_answer",
  "org.matrix.msc3401.call",
  "org.matrix.msc3401.call.member",
] as const;

type Content = Record<string, unknown>;

/**
 * A map of levels as a room version reads it: integers, and (before room version 10) integers
 * written as strings; anything else has no effect in Synapse and is dropped.
 */
function _levels(map: Record<string, unknown>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, value] of Object.entries(map)) {
    if (Number.isSafeInteger(value)) out[name] = value as number;
    else if (typeof value === "string" && /^[+-]?\d{1,15}$/.test(value.trim())) {
      out[name] = Number(value.trim());
    }
  }
  return out;
}

const _numbers = (v: unknown): Record<string, number> =>
  v === null || typeof v !== "object" || Array.isArray(v) ? {} : _levels(v as Content);

/**
 * The power levels a room must have, merged into what it has: Synapse's defaults fill gaps,
 * protected events are pinned to 100, call events to 0, the bot to 200; everyone else's level
 * and every other event's level are kept.
 */
export function desiredPowerLevels(
  current: Content | null,
  key: RoomKey,
  botUserId: string,
): PowerLevels & { users: Record<string, number>; events: Record<string, number> } {
  const base: Content = { ...SYNAPSE_DEFAULT_LEVELS, ...(current ?? {}) };
  const events: Record<string, number> = {
    ...SYNAPSE_DEFAULT_EVENT_LEVELS,
    ..._numbers(base.events),
  };
  for (const e of PROTECTED_EVENTS) events[e] = 100;
  for (const e of CALL_EVENTS) events[e] = 0;
  if (key === "space") events["m.space.child"] = 0;
  return { ...base, events, users: { ..._numbers(base.users), [botUserId]: BOT_LEVEL } };
}

export interface StateSpec {
  readonly type: string;
  readonly stateKey: string;
  readonly content: Content;
  /** True when `current` already satisfies this spec (so no event is written). */
  readonly satisfiedBy: (current: Content) => boolean;
}

const exact = (desired: Content) => (current: Content) => deepEqual(current, desired);

/** Every managed state event of room `key` except power levels (which are merged, see above). */
export function roomStateSpec(
  key: RoomKey,
  ids: RoomIds,
  deployment: string,
  serverName: string,
): StateSpec[] {
  const text = roomText(key, deployment);
  const specs: StateSpec[] = [];
  const add = (type: string, content: Content, satisfiedBy = exact(content), stateKey = "") =>
    specs.push({ type, stateKey, content, satisfiedBy });
  if (text.name !== null) add("m.room.name", { name: text.name });
  // Synapse adds the rich-text `m.topic` form to topics it writes; the plain `topic` decides.
  if (text.topic !== null) {
    add("m.room.topic", { topic: text.topic }, (c) => c.topic === text.topic);
  }
  if (key === "space" || key === "admin") {
    add("m.room.join_rules", { join_rule: "invite" });
  } else {
    add("m.room.join_rules", {
      join_rule: "restricted",
      allow: [{ type: "m.room_membership", room_id: ids.space }],
    });
  }
  if (key !== "space") {
    add("m.room.history_visibility", { history_visibility: "joined" });
    // Encryption can never be turned off or changed; any content with our algorithm is fine.
    add("m.room.encryption", { algorithm: ENCRYPTION }, (c) => c.algorithm === ENCRYPTION);
    const via = [serverName];
    add(
      "m.space.parent",
      { via, canonical: true },
      (c) => _hasVia(c, serverName) && c.canonical === true,
      ids.space,
    );
  } else {
    for (const child of ["general", "helpdesk", "offtopic", "admin"] as const) {
      // A child without a non-empty `via` is ignored by /hierarchy.
      add("m.space.child", { via: [serverName] }, (c) => _hasVia(c, serverName), ids[child]);
    }
  }
  return specs;
}

function _hasVia(c: Content, serverName: string): boolean {
  return Array.isArray(c.via) && c.via.includes(serverName);
}

/** Structural equality of JSON values, ignoring object key order. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && deepEqual((a as Content)[k], (b as Content)[k]));
}
