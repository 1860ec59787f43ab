/**
 * @module Keycloak's admin REST API, as much as tests need: realms, users, initial access tokens
 * for dynamic client registration, clients. Every call gets a fresh token (master, admin-cli).
 */

/** Where Keycloak listens and its bootstrap admin in realm master. */
export interface KeycloakAdminAccess {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  readonly url: string;
  readonly adminUser: string;
  readonly adminPassword: string;
}

export interface NewUser {
  readonly username: string;
  readonly password: string;
  /** @default `<username>@example.org`: Keycloak 26's user profile wants one. */
  readonly email?: string;
  /** @default the username */
  readonly firstName?: string;
  /** @default "Tester" */
  readonly lastName?: string;
}

export interface InitialAccessTokenOptions {
  /** How many clients the token may register. @default 1 */
  readonly count?: number;
  /** Seconds the token lives. @default 1 (what RM's kctoken asks Keycloak for) */
  readonly expiration?: number;
}

export interface KeycloakClient {
  /** Keycloak's internal id (a UUID), for the admin API. */
  readonly id: string;
  /** The OAuth client_id. */
  readonly clientId: string;
  readonly redirectUris: readonly string[];
}

export interface KeycloakAdmin {
  /** A fresh admin access token (password grant, realm master, client admin-cli). */
  adminToken(): Promise<string>;
  /** Creates an enabled realm. */
  createRealm(name: string): Promise<void>;
  /** Creates an enabled user who can log in at once (no required actions); returns its id. */
  createUser(realm: string, user: NewUser): Promise<string>;
  /** An initial access token for `POST /realms/{realm}/clients-registrations/openid-connect`. */
  initialAccessToken(realm: string, options?: InitialAccessTokenOptions): Promise<string>;
  listClients(realm: string): Promise<KeycloakClient[]>;
  /** Deletes the client with this internal `id` (not its clientId). */
  deleteClient(realm: string, id: string): Promise<void>;
}

async function _token(access: KeycloakAdminAccess): Promise<string> {
  const res = await fetch(`${access.url}/realms/master/protocol/openid-connect/token`, {
    method: "POST",
    body: new URLSearchParams({
      grant_type: "password",
      client_id: "admin-cli",
      username: access.adminUser,
      password: access.adminPassword,
    }),
  });
  const text = await res.text();
  if (res.status !== 200) {
    throw new Error(
      `Keycloak admin login as "${access.adminUser}" answered ${res.status}: ${text}`,
    );
  }
  const token = (JSON.parse(text) as { access_token?: unknown }).access_token;
  if (typeof token !== "string") {
    throw new Error(`Keycloak admin login gave no access_token: ${text}`);
  }
  return token;
}

/** The admin API of the Keycloak at `access.url`. */
export function keycloakAdmin(access: KeycloakAdminAccess): KeycloakAdmin {
  const realmPath = (realm: string) => `/admin/realms/${encodeURIComponent(realm)}`;
  // Sends one admin request; any status but `ok` throws with what was asked and answered.
  const call = async (method: string, path: string, ok: number, body?: unknown) => {
    const headers: Record<string, string> = { authorization: `Bearer ${await _token(access)}` };
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(`${access.url}${path}`, {
      method,
      headers,
      ...body === undefined ? {} : { body: JSON.stringify(body) },
    });
    const text = await res.text();
    if (res.status !== ok) {
      throw new Error(`Keycloak admin API: ${method} ${path} answered ${res.status}: ${text}`);
    }
    return { res, text };
  };
  return {
    adminToken: () => _token(access),
    async createRealm(name) {
      await call("POST", "/admin/realms", 201, { realm: name, enabled: true });
    },
    async createUser(realm, user) {
      const { res } = await call("POST", `${realmPath(realm)}/users`, 201, {
        username: user.username,
        // Keycloak 26's default user profile wants email, first and last name: without them the
        // first login stops at "update profile" (VERIFY_PROFILE) instead of finishing.
        email: user.email ?? `${user.username}@example.org`,
        firstName: user.firstName ?? user.username,
        lastName: user.lastName ?? "Tester",
        enabled: true,
        emailVerified: true,
        requiredActions: [],
        credentials: [{ type: "password", value: user.password, temporary: false }],
      });
      const id = res.headers.get("location")?.split("/").pop();
      if (!id) throw new Error(`Keycloak created user "${user.username}" but sent no Location`);
      return id;
    },
    async initialAccessToken(realm, options = {}) {
      const { text } = await call("POST", `${realmPath(realm)}/clients-initial-access`, 200, {
        count: options.count ?? 1,
        expiration: options.expiration ?? 1,
      });
      const token = (JSON.parse(text) as { token?: unknown }).token;
      if (typeof token !== "string") {
        throw new Error(`Keycloak gave no initial access token: ${text}`);
      }
      return token;
    },
    async listClients(realm) {
      const { text } = await call("GET", `${realmPath(realm)}/clients`, 200);
      return (JSON.parse(text) as KeycloakClient[]).map((c) => ({
        id: c.id,
        clientId: c.clientId,
        redirectUris: c.redirectUris ?? [],
      }));
    },
    async deleteClient(realm, id) {
      await call("DELETE", `${realmPath(realm)}/clients/${encodeURIComponent(id)}`, 204);
    },
  };
}
