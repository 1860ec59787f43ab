/** @module The deployment's rooms: their keys and how their aliases are spelled. */

/** The Space first: the other rooms' join rules point at it. */
export const ROOM_KEYS = ["space", "general", "helpdesk", "offtopic", "admin"] as const;
export type RoomKey = typeof ROOM_KEYS[number];
export type RoomIds = Readonly<Record<RoomKey, string>>;

/** `#<deployment>-<key>:<server>`, the Python original's aliases (so its rooms are adopted). */
export function roomAlias(deployment: string, key: RoomKey, serverName: string): string {
  return `#${deployment}-${key}:${serverName}`;
}
