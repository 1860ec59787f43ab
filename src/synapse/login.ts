/**
 * @module Device-bound tokens for an ordinary account: whoami with its device, password login on
 * a given device, and the admin's password reset that keeps the account's devices.
 */
import { z } from "zod";
import { enc, type SynapseCaller, SynapseError, type SynapseHttp } from "./http.ts";

const WhoAmI = z.object({ user_id: z.string(), device_id: z.string().optional() });

export type DeviceWhoAmI =
  | { readonly kind: "valid"; readonly userId: string; readonly deviceId: string | null }
  | { readonly kind: "invalid"; readonly errcode: string };

/** Whose `token` is and which device it is bound to (`null` for a device-less token). */
export async function whoamiDevice(synapse: SynapseCaller): Promise<DeviceWhoAmI> {
  try {
    const r = await synapse.call({
      method: "GET",
      path: "/_matrix/client/v3/account/whoami",
      schema: WhoAmI,
    });
    return { kind: "valid", userId: r.user_id, deviceId: r.device_id ?? null };
  } catch (err) {
    if (err instanceof SynapseError && (err.status === 401 || err.errcode === "M_UNKNOWN_TOKEN")) {
      return { kind: "invalid", errcode: err.errcode };
    }
    throw err;
  }
}

const LoggedIn = z.object({
  user_id: z.string().min(3),
  access_token: z.string().min(1),
  device_id: z.string().min(1),
});

/**
 * Password login; with `deviceId` the new token is bound to that existing device, which keeps its
 * identity keys (what an end-to-end client needs to go on decrypting).
 */
export async function passwordLogin(
  http: SynapseHttp,
  login: { localpart: string; password: string; deviceId: string | null; displayName: string },
): Promise<{ userId: string; accessToken: string; deviceId: string }> {
  const r = await http.call(null, {
    method: "POST",
    path: "/_matrix/client/v3/login",
    json: {
      type: "m.login.password",
      identifier: { type: "m.id.user", user: login.localpart },
      password: login.password,
      initial_device_display_name: login.displayName,
      ...(login.deviceId === null ? {} : { device_id: login.deviceId }),
    },
    schema: LoggedIn,
  });
  return { userId: r.user_id, accessToken: r.access_token, deviceId: r.device_id };
}

/**
 * Sets an existing account's password (admin API), keeping its devices and tokens. Callers check
 * that the account exists: this PUT would create it.
 */
export async function resetPassword(
  admin: SynapseCaller,
  userId: string,
  password: string,
): Promise<void> {
  await admin.call({
    method: "PUT",
    path: `/_synapse/admin/v2/users/${enc(userId)}`,
    json: { password, logout_devices: false, admin: false },
    schema: z.unknown(),
  });
}
