/** @module Wish records for tests: valid by default, pending and never attempted. */
import type { WishRecord } from "../../src/store/wishes.ts";

/** A valid, pending wish of `over.userId` (default `@person:example.test`); `over` changes fields. */
export function wishRecord(over: Partial<WishRecord> = {}): WishRecord {
  return {
    version: 1,
    userId: "@person:example.test",
    callsign: "PERSON",
    member: true,
    admin: false,
    revoked: false,
    everAdmin: false,
    generation: 1,
    appliedGeneration: 0,
    lastAction: "created",
    updatedAt: new Date(0).toISOString(),
    pendingSince: new Date(0).toISOString(),
    attempts: 0,
    nextAttemptAt: 0,
    lastError: null,
    waitingFor: null,
    ...over,
  };
}
