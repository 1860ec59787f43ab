/**
 * @module The ingest bot's device-bound token, obtained idempotently: the KV token if whoami
 * still accepts it on its device; else a password login **on the same device** (the device keeps
 * its identity keys, so BattleLog's crypto machine goes on decrypting); else a fresh shared-secret
 * registration (a plain user, never an admin). A bot that exists but whose record is lost gets a
 * new password from our admin and a new device — loudly, since BattleLog must then restart.
 */
import type { Logger } from "../log/logger.ts";
import type { SynapseCaller, SynapseHttp } from "../synapse/http.ts";
import { randomPassword, registerWithSharedSecret } from "../synapse/registration.ts";
import { passwordLogin, resetPassword, whoamiDevice } from "../synapse/login.ts";
import { getUser } from "../synapse/users.ts";
import type { IngestTokenRecord, InteropStore } from "../store/interop.ts";
import { CorruptRecordError } from "../store/store.ts";

export interface IngestTokenContext {
  readonly http: SynapseHttp;
  /** Our own bot (a server admin), for the password reset. */
  readonly admin: SynapseCaller;
  readonly store: InteropStore;
  readonly registrationSecret: string;
  readonly username: string;
  readonly serverName: string;
  readonly log: Logger;
  readonly now: () => Date;
}

export const INGEST_DEVICE_NAME = "BattleLog ingest (matrixrmapi)";

/** Returns a token whoami accepts for the ingest bot, bound to a device. */
export async function obtainIngestToken(ctx: IngestTokenContext): Promise<IngestTokenRecord> {
  const userId = `@${ctx.username}:${ctx.serverName}`;
  const stored = await _stored(ctx, userId);
  if (stored !== null) {
    const who = await whoamiDevice(ctx.http.as(stored.accessToken));
    if (who.kind === "valid" && who.userId === userId && who.deviceId === stored.deviceId) {
      return stored;
    }
    ctx.log.warn("the ingest bot's token is no longer accepted; logging in on the same device", {
      bot: userId,
      device: stored.deviceId,
    });
    return await _login(ctx, userId, stored.password, stored.deviceId);
  }
  const password = randomPassword();
  const registered = await registerWithSharedSecret(ctx.http, ctx.registrationSecret, {
    username: ctx.username,
    password,
    admin: false,
  });
  if (registered.kind === "registered" && registered.deviceId !== null) {
    const record = _record(ctx, registered, password, "registered");
    await ctx.store.setIngestToken(record);
    ctx.log.info("registered the interop ingest bot", { bot: userId, device: record.deviceId });
    return record;
  }
  return await _adopt(ctx, userId);
}

async function _stored(ctx: IngestTokenContext, userId: string) {
  try {
    const r = await ctx.store.getIngestToken();
    return r !== null && r.userId === userId ? r : null;
  } catch (err) {
    if (!(err instanceof CorruptRecordError)) throw err;
    ctx.log.error("the ingest bot's token record is corrupt; obtaining a new one", { error: err });
    return null;
  }
}

/** The account exists but we hold nothing for it: a new password, a new device. */
async function _adopt(ctx: IngestTokenContext, userId: string): Promise<IngestTokenRecord> {
  const user = await getUser(ctx.admin, userId);
  if (user === null || user.deactivated) {
    throw new Error(
      `Cannot use the ingest bot ${userId}: ${
        user === null ? "Synapse has no such user" : "it is deactivated"
      }; ` +
        "set BATTLELOG_BOT_USERNAME to a new name and restart",
    );
  }
  const password = randomPassword();
  await resetPassword(ctx.admin, userId, password);
  ctx.log.warn(
    "the ingest bot existed without a token we know: it has a new password and a NEW DEVICE; " +
      "BattleLog must be restarted to read encrypted rooms on it",
    { bot: userId },
  );
  return await _login(ctx, userId, password, null);
}

async function _login(
  ctx: IngestTokenContext,
  userId: string,
  password: string,
  deviceId: string | null,
): Promise<IngestTokenRecord> {
  const r = await passwordLogin(ctx.http, {
    localpart: ctx.username,
    password,
    deviceId,
    displayName: INGEST_DEVICE_NAME,
  });
  if (r.userId !== userId) throw new Error(`login as ${userId} answered for ${r.userId}`);
  const record = _record(ctx, r, password, "recovered");
  await ctx.store.setIngestToken(record);
  ctx.log.warn("the ingest bot has a new token", {
    bot: userId,
    device: r.deviceId,
    same_device: r.deviceId === deviceId,
  });
  return record;
}

function _record(
  ctx: IngestTokenContext,
  r: { userId: string; accessToken: string; deviceId: string | null },
  password: string,
  source: IngestTokenRecord["source"],
): IngestTokenRecord {
  return {
    version: 1,
    userId: r.userId,
    accessToken: r.accessToken,
    deviceId: r.deviceId!,
    password,
    obtainedAt: ctx.now().toISOString(),
    source,
  };
}
