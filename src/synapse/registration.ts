/**
 * @module Shared-secret registration (`/_synapse/admin/v1/register`): a fresh nonce per attempt
 * and the HMAC-SHA1 MAC over `nonce NUL user NUL password NUL admin|notadmin`, by Web Crypto.
 */
import { z } from "zod";
import type { SynapseHttp } from "./http.ts";
import { SynapseError } from "./http.ts";

const Nonce = z.object({ nonce: z.string().min(1) });
const Registered = z.object({
  user_id: z.string().min(3),
  access_token: z.string().min(1),
  device_id: z.string().optional(),
});

export type RegisterResult =
  | {
    readonly kind: "registered";
    readonly userId: string;
    readonly accessToken: string;
    /** The device the token is bound to (Synapse always makes one here). */
    readonly deviceId: string | null;
  }
  | { readonly kind: "userInUse" };

/** Lower-case hex HMAC-SHA1 of `message` keyed with `secret` (what Synapse expects as `mac`). */
export async function hmacSha1Hex(
  secret: string,
  message: Uint8Array<ArrayBuffer>,
): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-1" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, message));
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** `nonce\0username\0password\0admin|notadmin` as UTF-8 bytes. */
export function registrationMessage(
  nonce: string,
  username: string,
  password: string,
  admin: boolean,
): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(
    [nonce, username, password, admin ? "admin" : "notadmin"].join("\0"),
  );
}

/** A random password nobody needs to know: tokens are minted by the shared secret or admin API. */
export function randomPassword(): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(24))));
}

/** Registers `username`; an existing name is an expected outcome, not an error. */
export async function registerWithSharedSecret(
  http: SynapseHttp,
  secret: string,
  user: { username: string; password: string; admin: boolean },
): Promise<RegisterResult> {
  // Nonces are single use and consumed even by a failed POST, so every attempt fetches its own.
  const { nonce } = await http.call(null, {
    method: "GET",
    path: "/_synapse/admin/v1/register",
    schema: Nonce,
  });
  const mac = await hmacSha1Hex(
    secret,
    registrationMessage(nonce, user.username, user.password, user.admin),
  );
  try {
    const r = await http.call(null, {
      method: "POST",
      path: "/_synapse/admin/v1/register",
      json: { nonce, username: user.username, password: user.password, admin: user.admin, mac },
      schema: Registered,
    });
    return {
      kind: "registered",
      userId: r.user_id,
      accessToken: r.access_token,
      deviceId: r.device_id ?? null,
    };
  } catch (err) {
    if (err instanceof SynapseError && err.errcode === "M_USER_IN_USE") {
      return { kind: "userInUse" };
    }
    throw err;
  }
}
