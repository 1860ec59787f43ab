/**
 * @module KV records of product interop: the grants RM made (`/interop/add`) and the ingest bot's
 * device-bound token. Like every KV record they are versioned and parsed on read.
 */
import { z } from "zod";
import { CorruptRecordError } from "./store.ts";

/** Key builders for interop records. */
export const interopKeys = {
  grant: (certcn: string): Deno.KvKey => ["interop", "grant", certcn],
  grants: (): Deno.KvKey => ["interop", "grant"],
  ingestToken: (): Deno.KvKey => ["interop", "ingest", "token"],
} as const;

export const GrantRecord = z.object({
  version: z.literal(1),
  certcn: z.string().min(1).max(253),
  /** When the grant was first made, and by whom (the caller's certificate CN). */
  grantedAt: z.iso.datetime(),
  grantedBy: z.string().min(1),
  /** The last time RM repeated it (BattleLog asks at every start). */
  lastConfirmedAt: z.iso.datetime(),
  /** The granted certificate's serial and expiry, for operators. */
  serial: z.string(),
  notAfter: z.iso.datetime(),
});
export type GrantRecord = z.infer<typeof GrantRecord>;

export const IngestTokenRecord = z.object({
  version: z.literal(1),
  userId: z.string().min(3),
  accessToken: z.string().min(1),
  deviceId: z.string().min(1),
  /** The account's password, kept so a lost token can be replaced on the same device. */
  password: z.string().min(16),
  obtainedAt: z.iso.datetime(),
  source: z.enum(["registered", "recovered"]),
});
export type IngestTokenRecord = z.infer<typeof IngestTokenRecord>;

export interface InteropStore {
  getGrant(certcn: string): Promise<GrantRecord | null>;
  /** Writes `record`; when a grant exists, keeps its first `grantedAt`/`grantedBy`. */
  upsertGrant(record: GrantRecord): Promise<{ created: boolean; record: GrantRecord }>;
  listGrants(): Promise<GrantRecord[]>;
  /** `false` when there was no such grant. */
  deleteGrant(certcn: string): Promise<boolean>;
  getIngestToken(): Promise<IngestTokenRecord | null>;
  setIngestToken(record: IngestTokenRecord): Promise<void>;
}

const MAX_GRANTS = 1000;

export function createInteropStore(kv: Deno.Kv): InteropStore {
  function parse<T>(key: Deno.KvKey, schema: z.ZodType<T>, value: unknown): T {
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      throw new CorruptRecordError(
        `KV record ${JSON.stringify(key)} does not parse: ${z.prettifyError(parsed.error)}`,
      );
    }
    return parsed.data;
  }
  async function read<T>(key: Deno.KvKey, schema: z.ZodType<T>): Promise<T | null> {
    const entry = await kv.get(key);
    return entry.value === null ? null : parse(key, schema, entry.value);
  }

  return {
    getGrant: (certcn) => read(interopKeys.grant(certcn), GrantRecord),
    async upsertGrant(record) {
      const key = interopKeys.grant(record.certcn);
      // Bounded: two concurrent repeats of one grant settle in a retry or two.
      for (let attempt = 0; attempt < 5; attempt++) {
        const entry = await kv.get(key);
        const old = entry.value === null ? null : parse(key, GrantRecord, entry.value);
        const next = GrantRecord.parse(
          old === null ? record : { ...record, grantedAt: old.grantedAt, grantedBy: old.grantedBy },
        );
        const res = await kv.atomic().check(entry).set(key, next).commit();
        if (res.ok) return { created: old === null, record: next };
      }
      throw new Error(`KV write of ${JSON.stringify(key)} kept conflicting`);
    },
    async listGrants() {
      const out: GrantRecord[] = [];
      for await (const e of kv.list({ prefix: interopKeys.grants() }, { limit: MAX_GRANTS })) {
        out.push(parse(e.key, GrantRecord, e.value));
      }
      return out;
    },
    async deleteGrant(certcn) {
      const key = interopKeys.grant(certcn);
      const entry = await kv.get(key);
      if (entry.value === null) return false;
      const res = await kv.atomic().check(entry).delete(key).commit();
      if (!res.ok) throw new Error(`KV delete of ${JSON.stringify(key)} conflicted; try again`);
      return true;
    },
    getIngestToken: () => read(interopKeys.ingestToken(), IngestTokenRecord),
    async setIngestToken(record) {
      const res = await kv.set(interopKeys.ingestToken(), IngestTokenRecord.parse(record));
      if (!res.ok) {
        throw new Error(`KV write of ${JSON.stringify(interopKeys.ingestToken())} failed`);
      }
    },
  };
}
