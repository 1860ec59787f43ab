/**
 * @module The in-memory homeserver behind the fake Synapse: users, tokens, rooms as state, and
 * the admin and client endpoints `src/synapse/` calls, answering with Synapse's statuses, errcodes
 * and reply shapes (from Synapse's servlets). Faults and recording live in `fake_synapse.ts`.
 */

export interface FakeUser {
  readonly name: string;
  admin: boolean;
  deactivated: boolean;
  locked: boolean;
  /** Milliseconds, in whole seconds as Synapse keeps them. */
  readonly creationTs: number;
  ratelimit: { messages_per_second: number; burst_count: number } | null;
}

export interface StateEvent {
  readonly type: string;
  readonly state_key: string;
  readonly content: Record<string, unknown>;
  readonly sender: string;
  readonly event_id: string;
}

/** A room is its current state; membership is `m.room.member` events, as in Matrix. */
export interface FakeRoom {
  readonly roomId: string;
  /** Keyed by `type` NUL `state_key`. */
  readonly state: Map<string, StateEvent>;
}

export interface HomeserverModel {
  readonly users: Map<string, FakeUser>;
  readonly rooms: Map<string, FakeRoom>;
  /** Valid access tokens and whose they are. */
  readonly tokens: Map<string, string>;
  addUser(localpart: string, o?: { admin?: boolean; creationTs?: number }): {
    userId: string;
    token: string;
  };
  addRoom(creator: string, o?: { public?: boolean; alias?: string }): string;
  members(roomId: string): string[];
  /** Synapse's answer to one request. */
  answer(request: Request, url: URL, token: string | null): Promise<Response>;
}

interface Ctx {
  /** The path's `:placeholders`, URL-decoded. */
  readonly p: string[];
  readonly body: Record<string, unknown>;
  /** The user the token belongs to ("" for unauthenticated endpoints). */
  readonly caller: string;
  readonly token: string | null;
  readonly query: URLSearchParams;
}
type Auth = "none" | "user" | "admin";
type Route = [string, Auth, (c: Ctx) => Response | Promise<Response>];

const A = "/_synapse/admin", C = "/_matrix/client/v3";

export function createHomeserverModel(serverName: string, secret?: string): HomeserverModel {
  const users = new Map<string, FakeUser>();
  const rooms = new Map<string, FakeRoom>();
  const aliases = new Map<string, string>();
  const tokens = new Map<string, string>();
  const nonces = new Set<string>();
  let serial = 0;
  const id = (sigil: string) => `${sigil}${(++serial).toString(36)}${_rand()}`;

  function addUser(localpart: string, o: { admin?: boolean; creationTs?: number } = {}) {
    const userId = `@${localpart}:${serverName}`;
    if (!users.has(userId)) {
      const creationTs = o.creationTs ?? Math.floor(Date.now() / 1000) * 1000;
      const u = { deactivated: false, locked: false, ratelimit: null, creationTs };
      users.set(userId, { ...u, name: userId, admin: o.admin ?? false });
    }
    const token = `syt_${localpart}_${_rand()}`;
    tokens.set(token, userId);
    return { userId, token };
  }
  const get = (r: FakeRoom, type: string, key = "") => r.state.get(`${type}\0${key}`)?.content;
  function set(r: FakeRoom, sender: string, type: string, key: string, content: object) {
    const ev = { type, state_key: key, content: { ...content }, sender, event_id: id("$") };
    r.state.set(`${type}\0${key}`, ev);
    return ev.event_id;
  }
  const members = (roomId: string) =>
    [...rooms.get(roomId)?.state.values() ?? []]
      .filter((e) => e.type === "m.room.member" && e.content.membership === "join")
      .map((e) => e.state_key);
  const isMember = (r: FakeRoom, userId: string) => members(r.roomId).includes(userId);
  function level(r: FakeRoom, userId: string): number {
    const pl = get(r, "m.room.power_levels") ?? {};
    return Number((pl.users as Record<string, number>)?.[userId] ?? pl.users_default ?? 0);
  }
  function addRoom(creator: string, o: { public?: boolean; alias?: string } = {}, body = {}) {
    const r: FakeRoom = { roomId: `${id("!")}:${serverName}`, state: new Map() };
    const b: Record<string, unknown> = body;
    rooms.set(r.roomId, r);
    set(r, creator, "m.room.create", "", { creator, room_version: b.room_version ?? "11" });
    set(r, creator, "m.room.member", creator, { membership: "join" });
    const override = (b.power_level_content_override ?? {}) as object;
    const defaults = { users_default: 0, events_default: 0, state_default: 50, kick: 50 };
    set(r, creator, "m.room.power_levels", "", {
      users: { [creator]: 100 },
      ...defaults,
      ...override,
    });
    const rule = (o.public ?? b.preset === "public_chat") ? "public" : "invite";
    set(r, creator, "m.room.join_rules", "", { join_rule: rule });
    for (const e of (b.initial_state ?? []) as StateEvent[]) {
      set(r, creator, e.type, e.state_key ?? "", e.content);
    }
    if (typeof b.name === "string") set(r, creator, "m.room.name", "", { name: b.name });
    if (typeof b.topic === "string") set(r, creator, "m.room.topic", "", { topic: b.topic });
    if (o.alias !== undefined) aliases.set(o.alias, r.roomId);
    return r.roomId;
  }
  const room = (roomId: string) => rooms.get(roomId) ?? _err(404, "M_NOT_FOUND", "Room not found");
  const user = (userId: string) => users.get(userId) ?? _err(404, "M_NOT_FOUND", "User not found");
  const userJson = (u: FakeUser) => {
    const { name, admin, deactivated, locked, creationTs } = u;
    return { name, admin, deactivated, locked, creation_ts: creationTs, is_guest: false };
  };

  const routes: Route[] = [
    ["GET /health", "none", () => new Response("OK")],
    [`GET ${A}/v1/register`, "none", () => {
      const nonce = _rand() + _rand();
      nonces.add(nonce);
      return Response.json({ nonce });
    }],
    [`POST ${A}/v1/register`, "none", async ({ body: b }) => {
      if (secret === undefined) _err(400, "M_UNKNOWN", "Shared secret registration is off");
      if (!nonces.delete(String(b.nonce))) _err(400, "M_UNKNOWN", "unrecognised nonce");
      const message = [b.nonce, b.username, b.password, b.admin ? "admin" : "notadmin"].join("\0");
      if (b.mac !== await _hmacSha1(secret ?? "", message)) {
        _err(403, "M_FORBIDDEN", "HMAC incorrect");
      }
      if (users.has(`@${b.username}:${serverName}`)) {
        _err(400, "M_USER_IN_USE", "User ID already taken.");
      }
      const { userId, token } = addUser(String(b.username), { admin: b.admin === true });
      return Response.json({ user_id: userId, access_token: token, device_id: id("D") });
    }],
    [`GET ${C}/account/whoami`, "user", ({ caller }) => {
      return Response.json({ user_id: caller, is_guest: false });
    }],
    [`POST ${C}/logout`, "user", ({ token }) => {
      tokens.delete(token ?? "");
      return Response.json({});
    }],
    [`GET ${A}/v2/users`, "admin", ({ query: q }) => {
      const from = Number(q.get("from") ?? 0), limit = Number(q.get("limit") ?? 100);
      const sign = q.get("dir") === "b" ? -1 : 1;
      const all = [...users.values()]
        .filter((u) => q.get("deactivated") === "true" || !u.deactivated)
        .sort((a, b) => sign * (a.creationTs - b.creationTs) || a.name.localeCompare(b.name));
      const page = all.slice(from, from + limit).map(userJson);
      const more = from + limit < all.length ? { next_token: String(from + page.length) } : {};
      return Response.json({ users: page, total: all.length, ...more });
    }],
    [`GET ${A}/v2/users/:user`, "admin", ({ p: [u] }) => Response.json(userJson(user(u!)))],
    [`PUT ${A}/v2/users/:user`, "admin", ({ p: [userId], body }) => {
      const fresh = !users.has(userId!);
      if (fresh) addUser(userId!.slice(1).split(":")[0]!);
      const u = user(userId!);
      for (const k of ["admin", "locked", "deactivated"] as const) {
        if (typeof body[k] === "boolean") u[k] = body[k];
      }
      return Response.json(userJson(u), { status: fresh ? 201 : 200 });
    }],
    [`POST ${A}/v1/users/:user/login`, "admin", ({ p: [userId], caller }) => {
      if (user(userId!).name === caller) _err(400, "M_UNKNOWN", "Cannot login as self");
      const token = `syt_as_${_rand()}`;
      tokens.set(token, userId!);
      return Response.json({ access_token: token });
    }],
    [`GET ${A}/v1/users/:user/override_ratelimit`, "admin", ({ p: [u] }) => {
      return Response.json(user(u!).ratelimit ?? {});
    }],
    [`POST ${A}/v1/users/:user/override_ratelimit`, "admin", ({ p: [userId], body }) => {
      const u = user(userId!);
      const { messages_per_second = 0, burst_count = 0 } = body;
      u.ratelimit = {
        messages_per_second: Number(messages_per_second),
        burst_count: Number(burst_count),
      };
      return Response.json(u.ratelimit);
    }],
    [`GET ${A}/v1/users/:user/joined_rooms`, "admin", ({ p: [userId] }) => {
      const joined = [...rooms.keys()].filter((r) => members(r).includes(userId!));
      return Response.json({ joined_rooms: joined, total: joined.length });
    }],
    [`POST ${A}/v1/deactivate/:user`, "admin", ({ p: [userId] }) => {
      const u = user(userId!);
      u.deactivated = true;
      for (const [t, owner] of tokens) if (owner === u.name) tokens.delete(t);
      for (const r of rooms.values()) {
        if (isMember(r, u.name)) set(r, u.name, "m.room.member", u.name, { membership: "leave" });
      }
      return Response.json({ id_server_unbind_result: "success" });
    }],
    [`POST ${A}/v1/join/:room`, "admin", ({ p: [roomId], body, caller }) => {
      const target = String(body.user_id);
      if (!users.has(target)) _err(404, "M_NOT_FOUND", "User not found");
      const r = rooms.get(roomId!) ?? _err(404, "M_UNKNOWN", "No known servers");
      if (get(r, "m.room.join_rules")?.join_rule !== "public") {
        // Synapse invites first, as the caller: an existing member cannot be invited.
        if (!isMember(r, caller)) _err(403, "M_FORBIDDEN", `${caller} not in room`);
        if (isMember(r, target)) _err(403, "M_FORBIDDEN", `${target} is already in the room.`);
      }
      set(r, target, "m.room.member", target, { membership: "join" });
      return Response.json({ room_id: r.roomId });
    }],
    [`GET ${A}/v1/rooms/:room/members`, "admin", ({ p: [roomId] }) => {
      const all = members(room(roomId!).roomId);
      return Response.json({ members: all, total: all.length });
    }],
    [`GET ${A}/v1/rooms/:room/state`, "admin", ({ p: [roomId] }) => {
      return Response.json({ state: [...room(roomId!).state.values()] });
    }],
    [`POST ${C}/rooms/:room/kick`, "user", ({ p: [roomId], body, caller }) => {
      const r = room(roomId!), target = String(body.user_id);
      if (!isMember(r, caller)) _err(403, "M_FORBIDDEN", `${caller} not in room`);
      // Kicking an invited user withdraws the invitation (as Element's "disinvite" does).
      const membership = get(r, "m.room.member", target)?.membership;
      if (membership !== "join" && membership !== "invite") {
        _err(403, "M_FORBIDDEN", "The target user is not in the room");
      }
      const needed = Number(get(r, "m.room.power_levels")?.kick ?? 50);
      if (level(r, caller) < needed || level(r, caller) <= level(r, target)) {
        _err(403, "M_FORBIDDEN", "You don't have permission to kick this user");
      }
      set(r, caller, "m.room.member", target, { membership: "leave" });
      return Response.json({});
    }],
    [`GET ${C}/rooms/:room/state/:type/:key`, "user", ({ p: [roomId, type, key], caller }) => {
      const r = room(roomId!);
      if (!isMember(r, caller)) _err(403, "M_FORBIDDEN", `${caller} not in room`);
      return Response.json(get(r, type!, key) ?? _err(404, "M_NOT_FOUND", "Event not found."));
    }],
    [`PUT ${C}/rooms/:room/state/:type/:key`, "user", ({ p: [roomId, type, key], ...c }) => {
      const r = room(roomId!);
      const pl = get(r, "m.room.power_levels") ?? {};
      const needed = (pl.events as Record<string, number>)?.[type!] ?? pl.state_default ?? 50;
      if (!isMember(r, c.caller) || level(r, c.caller) < Number(needed)) {
        _err(403, "M_FORBIDDEN", `You don't have permission to post ${type}`);
      }
      return Response.json({ event_id: set(r, c.caller, type!, key!, c.body) });
    }],
    [`GET ${C}/directory/room/:alias`, "user", ({ p: [alias] }) => {
      const roomId = aliases.get(alias!) ?? _err(404, "M_NOT_FOUND", `Room alias not found`);
      return Response.json({ room_id: roomId, servers: [serverName] });
    }],
    [`POST ${C}/createRoom`, "user", ({ body, caller }) => {
      const name = body.room_alias_name, alias = `#${name}:${serverName}`;
      if (name !== undefined && aliases.has(alias)) {
        _err(400, "M_ROOM_IN_USE", "Room alias already taken");
      }
      return Response.json({ room_id: addRoom(caller, name ? { alias } : {}, body) });
    }],
  ];
  const table = routes.map(([spec, auth, handler]) => {
    const [method, path] = spec.split(" ") as [string, string];
    return { method, re: new RegExp(`^${path.replace(/:\w+/g, "([^/]*)")}$`), auth, handler };
  });

  async function answer(request: Request, url: URL, token: string | null): Promise<Response> {
    const route = table.find((r) => r.method === request.method && r.re.test(url.pathname));
    if (route === undefined) return matrixError(404, "M_UNRECOGNIZED", "Unrecognized request");
    try {
      let caller = "";
      if (route.auth !== "none") {
        if (token === null) _err(401, "M_MISSING_TOKEN", "Missing access token.");
        caller = tokens.get(token ?? "") ?? _err(401, "M_UNKNOWN_TOKEN", "Invalid access token");
        if (users.get(caller)?.locked) _err(401, "M_USER_LOCKED", "This account is locked");
        if (route.auth === "admin" && !users.get(caller)?.admin) {
          _err(403, "M_FORBIDDEN", "You are not a server admin");
        }
      }
      const text = request.method === "GET" ? "" : await request.text();
      const body = text === "" ? {} : _object(text);
      const p = (route.re.exec(url.pathname) ?? []).slice(1).map(decodeURIComponent);
      return await route.handler({ p, body, caller, token, query: url.searchParams });
    } catch (err) {
      if (err instanceof Response) return err;
      throw err;
    }
  }

  return { users, rooms, tokens, addUser, addRoom: (c, o) => addRoom(c, o), members, answer };
}

/** A Matrix error reply. */
export function matrixError(
  status: number,
  errcode: string,
  error: string,
  retryMs?: number,
): Response {
  const retry = retryMs === undefined ? {} : { retry_after_ms: retryMs };
  return Response.json({ errcode, error, ...retry }, { status });
}

/** Ends a handler with a Matrix error (caught in `answer`). */
function _err(status: number, errcode: string, error: string): never {
  throw matrixError(status, errcode, error);
}

function _object(text: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text);
    if (typeof v === "object" && v !== null && !Array.isArray(v)) return v;
  } catch { /* answered below */ }
  return _err(400, "M_NOT_JSON", "Content not JSON.");
}

function _rand(): string {
  return crypto.randomUUID().slice(0, 8);
}

async function _hmacSha1(secret: string, message: string): Promise<string> {
  const bytes = (s: string) => new TextEncoder().encode(s);
  const algorithm = { name: "HMAC", hash: "SHA-1" };
  const key = await crypto.subtle.importKey("raw", bytes(secret), algorithm, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, bytes(message)));
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
}
