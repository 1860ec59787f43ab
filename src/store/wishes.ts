/**
 * @module KV records of the lifecycle: each person's wish with its generation, and the pending
 * index the worker scans. Every change is one atomic commit with a versionstamp check.
 *
 * The pending index is also kept in memory: read from KV once, then updated by this store's own
 * commits, so the worker's every wake costs no KV read however many people wait. It is read from
 * KV again every `rescanMs`, in case something else wrote to the database.
 */
import type { Registry } from "../metrics/registry.ts";
import { z } from "zod";
import { CorruptRecordError } from "./store.ts";

export const wishKeys = {
  wish: (userId: string): Deno.KvKey => ["wish", userId],
  pending: (userId: string): Deno.KvKey => ["pending", userId],
  loginWatermark: (): Deno.KvKey => ["login_watch", "watermark"],
} as const;

/** How far the look for new Matrix accounts has read: the newest creation time and who had it. */
export const LoginWatermark = z.object({
  version: z.literal(1),
  createdAt: z.number(),
  userIds: z.array(z.string()),
});
export type LoginWatermark = z.infer<typeof LoginWatermark>;

export const WishRecord = z.object({
  version: z.literal(1),
  userId: z.string().min(3),
  callsign: z.string(),
  member: z.boolean(),
  admin: z.boolean(),
  revoked: z.boolean(),
  everAdmin: z.boolean(),
  /** Bumped on every accepted callback; the worker applies generations, never "the latest". */
  generation: z.number().int().nonnegative(),
  appliedGeneration: z.number().int().nonnegative(),
  lastAction: z.string(),
  updatedAt: z.iso.datetime(),
  /** When the oldest unapplied generation arrived. */
  pendingSince: z.iso.datetime().nullable(),
  attempts: z.number().int().nonnegative(),
  nextAttemptAt: z.number().int().nonnegative(),
  lastError: z.string().nullable(),
  /** A non-error reason it is still pending (e.g. waiting for the first login). */
  waitingFor: z.string().nullable(),
});
export type WishRecord = z.infer<typeof WishRecord>;

const PendingEntry = z.object({ generation: z.number().int(), nextAttemptAt: z.number().int() });
type PendingEntry = z.infer<typeof PendingEntry>;

/** One pending person: the generation to apply and when it is due (epoch ms). */
export interface Pending {
  readonly userId: string;
  readonly generation: number;
  readonly nextAttemptAt: number;
}

export type RecordResult =
  | { readonly kind: "recorded"; readonly record: WishRecord }
  | { readonly kind: "refused"; readonly record: WishRecord | null };

export interface WishStore {
  get(userId: string): Promise<WishRecord | null>;
  /**
   * Atomically replaces the wish of `userId` with `change(current)`; `null` from `change` means
   * "refuse". Retries on concurrent writers, so racing callbacks are serialised by KV.
   */
  update(
    userId: string,
    change: (current: WishRecord | null) => WishRecord | null,
  ): Promise<RecordResult>;
  /** Every recorded wish (reconciliation's drift pass reads who should be an admin). */
  listAll(): Promise<WishRecord[]>;
  /** Pending user IDs, each with the generation to apply and when it is due. */
  listPending(): Promise<Pending[]>;
  /** Marks `generation` applied; the user leaves the pending index if nothing newer arrived. */
  markApplied(userId: string, generation: number): Promise<void>;
  /** Records a failed or waiting attempt and when to try again. */
  markRetry(
    userId: string,
    generation: number,
    next: { at: number; error: string | null; waitingFor: string | null },
  ): Promise<void>;
  /** Makes a pending wish due now (its person just appeared in Synapse); false if none. */
  markDue(userId: string): Promise<boolean>;
  getLoginWatermark(): Promise<LoginWatermark | null>;
  setLoginWatermark(mark: LoginWatermark): Promise<void>;
}

export interface WishStoreOptions {
  /** Counts every committed write (`matrixrmapi_kv_writes_total`). */
  readonly metrics?: Registry;
  /** How long the in-memory pending index is trusted before KV is read again. @default 60000 */
  readonly rescanMs?: number;
}

export function createWishStore(kv: Deno.Kv, options: WishStoreOptions = {}): WishStore {
  const onWrite = () => options.metrics?.inc("matrixrmapi_kv_writes_total");
  const rescanMs = options.rescanMs ?? 60_000;
  const index = _pendingIndex(kv, rescanMs);

  async function update(
    userId: string,
    change: (current: WishRecord | null) => WishRecord | null,
  ): Promise<RecordResult> {
    for (let attempt = 0; attempt < 50; attempt++) {
      const entry = await kv.get(wishKeys.wish(userId));
      const current = _wish(entry);
      const next = change(current);
      if (next === null) return { kind: "refused", record: current };
      const record = WishRecord.parse(next);
      const op = kv.atomic().check(entry).set(wishKeys.wish(userId), record);
      if (record.appliedGeneration < record.generation) {
        op.set(wishKeys.pending(userId), {
          generation: record.generation,
          nextAttemptAt: record.nextAttemptAt,
        });
      } else {
        op.delete(wishKeys.pending(userId));
      }
      const res = await op.commit();
      if (res.ok) {
        index.committed(
          userId,
          record.appliedGeneration < record.generation
            ? { generation: record.generation, nextAttemptAt: record.nextAttemptAt }
            : null,
        );
        onWrite();
        return { kind: "recorded", record };
      }
    }
    throw new Error(`Cannot record the wish of ${userId}: too many concurrent writers`);
  }

  return {
    async get(userId) {
      const entry = await kv.get(wishKeys.wish(userId));
      return _wish(entry);
    },
    update,
    async listAll() {
      const out: WishRecord[] = [];
      for await (const entry of kv.list({ prefix: ["wish"] })) {
        const parsed = WishRecord.safeParse(entry.value);
        if (parsed.success) out.push(parsed.data);
      }
      return out;
    },
    async listPending() {
      const entries = await index.read();
      return Array.from(entries, ([userId, e]) => ({ userId, ...e }));
    },
    async markApplied(userId, generation) {
      await update(userId, (current) => {
        if (current === null || current.appliedGeneration >= generation) return null;
        const done = generation >= current.generation;
        return {
          ...current,
          appliedGeneration: generation,
          attempts: done ? 0 : current.attempts,
          lastError: done ? null : current.lastError,
          waitingFor: done ? null : current.waitingFor,
          pendingSince: done ? null : current.pendingSince,
        };
      });
    },
    async markDue(userId) {
      const result = await update(userId, (current) => {
        if (current === null || current.appliedGeneration >= current.generation) return null;
        if (current.nextAttemptAt === 0) return null; // already due
        return { ...current, nextAttemptAt: 0 };
      });
      return result.kind === "recorded";
    },
    async getLoginWatermark() {
      const entry = await kv.get(wishKeys.loginWatermark());
      if (entry.value === null) return null;
      const parsed = LoginWatermark.safeParse(entry.value);
      return parsed.success ? parsed.data : null; // unreadable: start over, as on a fresh volume
    },
    async setLoginWatermark(mark) {
      const res = await kv.set(wishKeys.loginWatermark(), LoginWatermark.parse(mark));
      if (!res.ok) throw new Error("KV write of the login watermark failed");
      onWrite();
    },
    async markRetry(userId, generation, next) {
      await update(userId, (current) => {
        if (current === null || current.appliedGeneration >= generation) return null;
        // A newer wish arrived meanwhile: it is due now, whatever happened to the older one.
        const newer = current.generation > generation;
        return {
          ...current,
          attempts: current.attempts + 1,
          nextAttemptAt: newer ? 0 : next.at,
          lastError: next.error,
          waitingFor: next.waitingFor,
        };
      });
    },
  };
}

/**
 * The pending index in memory. A write committed while KV is being read wins over what the read
 * saw (it is newer, or the read already had it), so a rescan never brings back a stale entry.
 */
function _pendingIndex(kv: Deno.Kv, rescanMs: number) {
  let entries: Map<string, PendingEntry> | null = null;
  let readAt = 0;
  let reading: Promise<Map<string, PendingEntry>> | null = null;
  let duringRead: Map<string, PendingEntry | null> | null = null;

  async function scan(): Promise<Map<string, PendingEntry>> {
    duringRead = new Map();
    try {
      const fresh = new Map<string, PendingEntry>();
      for await (const entry of kv.list({ prefix: ["pending"] })) {
        const userId = entry.key[1];
        const parsed = PendingEntry.safeParse(entry.value);
        if (typeof userId === "string" && parsed.success) fresh.set(userId, parsed.data);
      }
      for (const [userId, e] of duringRead) {
        if (e === null) fresh.delete(userId);
        else fresh.set(userId, e);
      }
      entries = fresh;
      readAt = Date.now();
      return fresh;
    } finally {
      duringRead = null;
      reading = null;
    }
  }

  return {
    /** The index, from memory while it is younger than `rescanMs`. */
    read(): Promise<Map<string, PendingEntry>> {
      if (entries !== null && Date.now() - readAt < rescanMs) return Promise.resolve(entries);
      reading ??= scan();
      return reading;
    },
    /** A commit of this store changed `userId`'s entry (null: no longer pending). */
    committed(userId: string, entry: PendingEntry | null): void {
      duringRead?.set(userId, entry);
      if (entries === null) return;
      if (entry === null) entries.delete(userId);
      else entries.set(userId, entry);
    },
  };
}

/** The wish in `entry`, or null; a record that does not parse is reported by its key. */
function _wish(entry: Deno.KvEntryMaybe<unknown>): WishRecord | null {
  if (entry.value === null) return null;
  const parsed = WishRecord.safeParse(entry.value);
  if (!parsed.success) {
    throw new CorruptRecordError(
      `KV record ${JSON.stringify(entry.key)} does not parse: ${z.prettifyError(parsed.error)}`,
    );
  }
  return parsed.data;
}
