/** @module The deployment's rooms: their keys, how their aliases are spelled, their names and topics. */

/** The Space first: the other rooms' join rules point at it. */
export const ROOM_KEYS = ["space", "general", "helpdesk", "offtopic", "admin"] as const;
export type RoomKey = typeof ROOM_KEYS[number];
export type RoomIds = Readonly<Record<RoomKey, string>>;

/** `#<deployment>-<key>:<server>`, the Python original's aliases (so its rooms are adopted). */
export function roomAlias(deployment: string, key: RoomKey, serverName: string): string {
  return `#${deployment}-${key}:${serverName}`;
}

export interface RoomText {
  readonly name: string | null;
  readonly topic: string | null;
}

/** Names sort the rooms in clients; topics are the Python original's, word for word facts. */
export function roomText(key: RoomKey, deployment: string): RoomText {
  switch (key) {
    case "space":
      return { name: deployment, topic: null };
    case "admin":
      return { name: "96-Admin channel", topic: null };
    case "offtopic":
      return { name: "97-Offtopic", topic: "Everything that is not about the topics or work." };
    case "general":
      return { name: "98-General", topic: "Work discussion that does not fit any other room." };
    case "helpdesk":
      return { name: "99-Helpdesk", topic: "Report issues and get help from here." };
  }
}
