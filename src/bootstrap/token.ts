/**
 * @module The bot's access token, obtained idempotently: a KV token Synapse still accepts, else
 * the Python original's token file, else a fresh shared-secret registration, else — the bot
 * exists but its token is lost — recovery through a one-off admin.
 */
import type { Logger } from "../log/logger.ts";
import type { SynapseHttp } from "../synapse/http.ts";
import { SynapseError } from "../synapse/http.ts";
import { randomPassword, registerWithSharedSecret } from "../synapse/registration.ts";
import {
  deactivateUser,
  getUser,
  loginAs,
  logout,
  retireUser,
  setServerAdmin,
  whoami,
} from "../synapse/users.ts";
import { type BotTokenRecord, CorruptRecordError, type Store } from "../store/store.ts";

export interface TokenContext {
  readonly http: SynapseHttp;
  readonly store: Store;
  readonly registrationSecret: string;
  readonly botUsername: string;
  readonly serverName: string;
  readonly legacyTokenFile: string;
  /** Reads a file's text; `null` when it does not exist. */
  readonly readText: (path: string) => Promise<string | null>;
  readonly log: Logger;
}

/** Returns a token that `whoami` accepts for the bot, which is a server admin. */
export async function obtainBotToken(ctx: TokenContext): Promise<BotTokenRecord> {
  const botId = `@${ctx.botUsername}:${ctx.serverName}`;
  const record = (await _fromStore(ctx, botId)) ?? (await _fromLegacyFile(ctx, botId)) ??
    (await _register(ctx, botId)) ?? (await _recover(ctx, botId, "its token is lost"));
  return await _ensureAdmin(ctx, botId, record);
}

async function _accepted(ctx: TokenContext, token: string, botId: string): Promise<boolean> {
  const who = await whoami(ctx.http.as(token));
  return who.kind === "valid" && who.userId === botId;
}

function _record(
  botId: string,
  accessToken: string,
  source: BotTokenRecord["source"],
): BotTokenRecord {
  return { version: 1, userId: botId, accessToken, obtainedAt: new Date().toISOString(), source };
}

async function _fromStore(ctx: TokenContext, botId: string): Promise<BotTokenRecord | null> {
  let stored: BotTokenRecord | null;
  try {
    stored = await ctx.store.getBotToken();
  } catch (err) {
    if (!(err instanceof CorruptRecordError)) throw err;
    ctx.log.error("stored bot token record is corrupt; obtaining a new token", { error: err });
    return null;
  }
  if (stored === null) return null;
  if (stored.userId === botId && await _accepted(ctx, stored.accessToken, botId)) return stored;
  ctx.log.warn("stored bot token is no longer accepted by Synapse; obtaining a new one", {
    bot: botId,
  });
  await ctx.store.deleteBotToken();
  return null;
}

async function _fromLegacyFile(ctx: TokenContext, botId: string): Promise<BotTokenRecord | null> {
  const text = await ctx.readText(ctx.legacyTokenFile);
  const token = text?.trim();
  if (!token) return null;
  if (!(await _accepted(ctx, token, botId))) {
    ctx.log.warn(
      "legacy token file holds a token Synapse does not accept for the bot; ignoring it",
      {
        path: ctx.legacyTokenFile,
      },
    );
    return null;
  }
  const record = _record(botId, token, "legacy-file");
  await ctx.store.setBotToken(record);
  ctx.log.info("imported the bot token from the Python original's token file", {
    path: ctx.legacyTokenFile,
  });
  return record;
}

async function _register(ctx: TokenContext, botId: string): Promise<BotTokenRecord | null> {
  const result = await registerWithSharedSecret(ctx.http, ctx.registrationSecret, {
    username: ctx.botUsername,
    password: randomPassword(),
    admin: true,
  });
  if (result.kind === "userInUse") return null;
  const record = _record(result.userId, result.accessToken, "registered");
  await ctx.store.setBotToken(record);
  ctx.log.info("registered the bot as a server admin", { bot: botId });
  return record;
}

/**
 * The bot exists but we hold no token it accepts (or it is not an admin): register a one-off
 * admin with the shared secret, use it to make the bot an admin and mint the bot's token with the
 * admin login API, then retire the helper. The helper is locked rather than deactivated:
 * Synapse deletes every token a deactivated user minted, the bot's included (measured).
 */
/** How long recovery pauses once the bot was found deactivated or missing: one helper at most. */
export const BOT_LOST_PAUSE_MS = 6 * 3_600_000;

async function _recover(ctx: TokenContext, botId: string, why: string): Promise<BotTokenRecord> {
  // A bot found beyond recovery stays so until an operator acts: do not mint a recovery admin on
  // every retry (each one is a server admin account), only after the pause or for another name.
  const lost = await ctx.store.getBotLost(botId);
  if (lost !== null) {
    throw new Error(
      `Cannot recover the bot: ${lost.reason} (found at ${lost.at}; not retried for ` +
        `${BOT_LOST_PAUSE_MS / 3_600_000} h). ${_BOT_LOST_HELP}`,
    );
  }
  const helperName = `${ctx.botUsername}-recovery-${crypto.randomUUID().slice(0, 8)}`;
  const helper = await registerWithSharedSecret(ctx.http, ctx.registrationSecret, {
    username: helperName,
    password: randomPassword(),
    admin: true,
  });
  if (helper.kind !== "registered") throw new Error(`Cannot recover the bot: ${helperName} exists`);
  let record: BotTokenRecord | null = null;
  try {
    const bot = await getUser(ctx.http.as(helper.accessToken), botId);
    if (bot === null || bot.deactivated) {
      const gone = bot === null ? `Synapse has no user ${botId}` : `${botId} is deactivated`;
      const at = new Date().toISOString();
      await ctx.store.setBotLost(botId, { version: 1, reason: gone, at }, BOT_LOST_PAUSE_MS);
      ctx.log.error("the bot cannot be recovered; an operator must act", {
        bot: botId,
        reason: gone,
        help: _BOT_LOST_HELP,
      });
      throw new Error(`Cannot recover the bot: ${gone}. ${_BOT_LOST_HELP}`);
    }
    if (!bot.admin) await setServerAdmin(ctx.http.as(helper.accessToken), botId);
    record = _record(botId, await loginAs(ctx.http.as(helper.accessToken), botId), "recovered");
    await retireUser(ctx.http.as(record.accessToken), helper.userId);
    await logout(ctx.http.as(helper.accessToken));
    await ctx.store.setBotToken(record);
    ctx.log.warn("recovered the bot through a one-off admin, now locked and without admin rights", {
      bot: botId,
      reason: why,
      helper: helper.userId,
    });
    return record;
  } finally {
    if (record === null) {
      // Nothing depends on the helper yet: remove it for good.
      await deactivateUser(ctx.http.as(helper.accessToken), helper.userId, false).catch((err) =>
        ctx.log.error("cannot deactivate the one-off recovery admin; do it by hand", {
          helper: helper.userId,
          error: err,
        })
      );
    }
  }
}

const _BOT_LOST_HELP = "Reactivate the bot with Synapse's admin API, or set " +
  "SYNAPSE_BOT_USERNAME to a new name and restart";

async function _ensureAdmin(
  ctx: TokenContext,
  botId: string,
  record: BotTokenRecord,
): Promise<BotTokenRecord> {
  try {
    await getUser(ctx.http.as(record.accessToken), botId);
    return record;
  } catch (err) {
    if (err instanceof SynapseError && err.status === 403) {
      return await _recover(ctx, botId, "the bot is not a server admin");
    }
    throw err;
  }
}
