/**
 * @module The only module that touches Deno KV: key builders, zod-validated records, and the
 * bootstrap lease. Records are versioned; a record that fails to parse is reported, not trusted.
 */
import { z } from "zod";
import { ROOM_KEYS } from "../matrix/deployment.ts";

/** Key builders: every KV key the service uses is made here. */
export const keys = {
  botToken: (): Deno.KvKey => ["bot", "token"],
  rooms: (): Deno.KvKey => ["bootstrap", "rooms"],
  lease: (name: string): Deno.KvKey => ["lease", name],
  botLost: (botId: string): Deno.KvKey => ["bot", "lost", botId],
} as const;

/** The bot was found unrecoverable (deactivated, or missing); recovery pauses until it expires. */
export const BotLostRecord = z.object({
  version: z.literal(1),
  reason: z.string(),
  at: z.string(),
});
export type BotLostRecord = z.infer<typeof BotLostRecord>;

export const BotTokenRecord = z.object({
  version: z.literal(1),
  userId: z.string().min(3),
  accessToken: z.string().min(1),
  obtainedAt: z.iso.datetime(),
  source: z.enum(["registered", "legacy-file", "recovered"]),
});
export type BotTokenRecord = z.infer<typeof BotTokenRecord>;

export const RoomsRecord = z.object({
  version: z.literal(1),
  serverName: z.string().min(1),
  deployment: z.string().min(1),
  rooms: z.object(Object.fromEntries(ROOM_KEYS.map((k) => [k, z.string().min(1)])) as Record<
    typeof ROOM_KEYS[number],
    z.ZodString
  >),
  updatedAt: z.iso.datetime(),
});
export type RoomsRecord = z.infer<typeof RoomsRecord>;

const LeaseRecord = z.object({ holder: z.string(), expiresAt: z.number() });

/** A KV record that exists but does not parse: reported by name so an operator can act. */
export class CorruptRecordError extends Error {
  override name = "CorruptRecordError";
}

export interface Store {
  getBotToken(): Promise<BotTokenRecord | null>;
  setBotToken(record: BotTokenRecord): Promise<void>;
  deleteBotToken(): Promise<void>;
  getRooms(): Promise<RoomsRecord | null>;
  setRooms(record: RoomsRecord): Promise<void>;
  /** Takes or renews the lease `name` for `holder`; false when someone else holds a live one. */
  acquireLease(name: string, holder: string, ttlMs: number): Promise<boolean>;
  releaseLease(name: string, holder: string): Promise<void>;
  getBotLost(botId: string): Promise<BotLostRecord | null>;
  /** Remembers for `ttlMs` that the bot cannot be recovered. */
  setBotLost(botId: string, record: BotLostRecord, ttlMs: number): Promise<void>;
}

export function createStore(kv: Deno.Kv, now: () => number = Date.now): Store {
  async function read<T>(key: Deno.KvKey, schema: z.ZodType<T>): Promise<T | null> {
    const entry = await kv.get(key);
    if (entry.value === null) return null;
    const parsed = schema.safeParse(entry.value);
    if (!parsed.success) {
      throw new CorruptRecordError(
        `KV record ${JSON.stringify(key)} does not parse: ${z.prettifyError(parsed.error)}`,
      );
    }
    return parsed.data;
  }
  async function write<T>(key: Deno.KvKey, schema: z.ZodType<T>, value: T): Promise<void> {
    const res = await kv.set(key, schema.parse(value));
    if (!res.ok) throw new Error(`KV write of ${JSON.stringify(key)} failed`);
  }

  return {
    getBotToken: () => read(keys.botToken(), BotTokenRecord),
    setBotToken: (r) => write(keys.botToken(), BotTokenRecord, r),
    deleteBotToken: () => kv.delete(keys.botToken()),
    getRooms: () => read(keys.rooms(), RoomsRecord),
    setRooms: (r) => write(keys.rooms(), RoomsRecord, r),
    async acquireLease(name, holder, ttlMs) {
      const key = keys.lease(name);
      const entry = await kv.get(key);
      const current = LeaseRecord.safeParse(entry.value);
      if (current.success && current.data.holder !== holder && current.data.expiresAt > now()) {
        return false;
      }
      // The versionstamp check makes take-over atomic: of two racing holders one commit fails.
      const res = await kv.atomic()
        .check(entry)
        .set(key, { holder, expiresAt: now() + ttlMs }, { expireIn: ttlMs })
        .commit();
      return res.ok;
    },
    async releaseLease(name, holder) {
      const key = keys.lease(name);
      const entry = await kv.get(key);
      const current = LeaseRecord.safeParse(entry.value);
      if (current.success && current.data.holder === holder) {
        await kv.atomic().check(entry).delete(key).commit();
      }
    },
    getBotLost: (botId) => read(keys.botLost(botId), BotLostRecord),
    async setBotLost(botId, record, ttlMs) {
      const res = await kv.set(keys.botLost(botId), BotLostRecord.parse(record), {
        expireIn: ttlMs,
      });
      if (!res.ok) throw new Error(`KV write of ${JSON.stringify(keys.botLost(botId))} failed`);
    },
  };
}
