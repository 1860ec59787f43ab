/** @module Synapse user APIs the service relies on: whoami, admin user lookup, token minting, rate-limit override, deactivation. */
import { z } from "zod";
import { enc, notFound, type SynapseCaller, SynapseError } from "./http.ts";

const WhoAmI = z.object({ user_id: z.string() });

export type WhoAmIResult =
  | { readonly kind: "valid"; readonly userId: string }
  | { readonly kind: "invalid"; readonly errcode: string };

/** Whether `token` is alive and whose it is (`server_version` would prove nothing). */
export async function whoami(
  synapse: SynapseCaller,
): Promise<WhoAmIResult> {
  try {
    const r = await synapse.call({
      method: "GET",
      path: "/_matrix/client/v3/account/whoami",
      schema: WhoAmI,
    });
    return { kind: "valid", userId: r.user_id };
  } catch (err) {
    if (err instanceof SynapseError && (err.status === 401 || err.errcode === "M_UNKNOWN_TOKEN")) {
      return { kind: "invalid", errcode: err.errcode };
    }
    throw err;
  }
}

const AdminUser = z.object({
  name: z.string(),
  admin: z.union([z.boolean(), z.number()]).transform(Boolean),
  deactivated: z.union([z.boolean(), z.number()]).transform(Boolean),
}).loose();
export type AdminUser = z.infer<typeof AdminUser>;

/** The admin view of a user, or `null` when Synapse has no such user. */
export async function getUser(
  synapse: SynapseCaller,
  userId: string,
): Promise<AdminUser | null> {
  try {
    return await synapse.call({
      method: "GET",
      path: `/_synapse/admin/v2/users/${enc(userId)}`,
      schema: AdminUser,
    });
  } catch (err) {
    if (notFound(err)) return null;
    throw err;
  }
}

/** Makes an existing user a server admin. Callers check existence first: this PUT creates users. */
export async function setServerAdmin(
  synapse: SynapseCaller,
  userId: string,
): Promise<void> {
  await synapse.call({
    method: "PUT",
    path: `/_synapse/admin/v2/users/${enc(userId)}`,
    json: { admin: true },
    schema: z.unknown(),
  });
}

/** Mints a new access token for `userId` (admin API); the user's other devices are untouched. */
export async function loginAs(
  synapse: SynapseCaller,
  userId: string,
): Promise<string> {
  const r = await synapse.call({
    method: "POST",
    path: `/_synapse/admin/v1/users/${enc(userId)}/login`,
    json: {},
    schema: z.object({ access_token: z.string().min(1) }),
  });
  return r.access_token;
}

const Ratelimit = z.object({
  messages_per_second: z.number().int().optional(),
  burst_count: z.number().int().optional(),
});

/** Exempts `userId` from every per-user rate limit (0/0) and reads the override back. */
export async function disableRatelimit(
  synapse: SynapseCaller,
  userId: string,
): Promise<boolean> {
  const path = `/_synapse/admin/v1/users/${enc(userId)}/override_ratelimit`;
  await synapse.call({
    method: "POST",
    path,
    json: { messages_per_second: 0, burst_count: 0 },
    schema: z.unknown(),
  });
  const now = await synapse.call({ method: "GET", path, schema: Ratelimit });
  return now.messages_per_second === 0 && now.burst_count === 0;
}

/**
 * Retires a helper account without deactivating it: no admin, locked (it cannot log in or use a
 * token of its own). Deactivation would delete the tokens it minted for others.
 */
export async function retireUser(
  synapse: SynapseCaller,
  userId: string,
): Promise<void> {
  await synapse.call({
    method: "PUT",
    path: `/_synapse/admin/v2/users/${enc(userId)}`,
    json: { admin: false, locked: true },
    schema: z.unknown(),
  });
}

/** Logs out the device of `token` (the token stops working). */
export async function logout(
  synapse: SynapseCaller,
): Promise<void> {
  await synapse.call({
    method: "POST",
    path: "/_matrix/client/v3/logout",
    json: {},
    schema: z.unknown(),
  });
}

/** Deactivates `userId`; `false` when Synapse has no such user. */
export async function deactivateUser(
  synapse: SynapseCaller,
  userId: string,
  erase: boolean,
): Promise<boolean> {
  try {
    await synapse.call({
      method: "POST",
      path: `/_synapse/admin/v1/deactivate/${enc(userId)}`,
      json: { erase },
      schema: z.unknown(),
    });
    return true;
  } catch (err) {
    if (notFound(err)) return false;
    throw err;
  }
}

const UserPage = z.object({
  users: z.array(z.object({ name: z.string(), creation_ts: z.number() }).loose()),
  next_token: z.union([z.string(), z.number()]).optional(),
}).loose();

/**
 * One page of Synapse's accounts, newest first (`order_by=creation_ts`, `dir=b`): how new
 * accounts are found with one request per look, however many people are waiting for theirs.
 */
export async function newestUsers(
  synapse: SynapseCaller,
  options: { from?: string; limit?: number } = {},
): Promise<{ users: Array<{ userId: string; createdAt: number }>; next: string | null }> {
  const page = await synapse.call({
    method: "GET",
    path: "/_synapse/admin/v2/users",
    searchParams: {
      order_by: "creation_ts",
      dir: "b",
      guests: "false",
      limit: String(options.limit ?? 100),
      ...(options.from === undefined ? {} : { from: options.from }),
    },
    schema: UserPage,
  });
  return {
    users: page.users.map((u) => ({ userId: u.name, createdAt: u.creation_ts })),
    next: page.next_token === undefined ? null : String(page.next_token),
  };
}
