/**
 * @module Reconciliation: RM's list of everyone turned into the same wishes the callbacks would
 * have recorded (member, admin, revoked), plus a drift pass over the rooms' managed state.
 * A failed, malformed or empty list changes nothing; a person missing from it is left alone.
 */
import type { Logger } from "../log/logger.ts";
import type { Registry } from "../metrics/registry.ts";
import { callsignToUserId, reservedAccount, rmOwnAccount } from "../matrix/mxid.ts";
import type { Lifecycle, LifecycleAction } from "../lifecycle/lifecycle.ts";
import type { WishStore } from "../store/wishes.ts";
import type { PeopleResult } from "../rm/product_api.ts";

export interface PlannedChange {
  readonly userId: string;
  readonly callsign: string;
  readonly action: Exclude<LifecycleAction, "updated">;
}

export interface ReconcileReport {
  readonly ok: boolean;
  readonly dryRun: boolean;
  readonly people: number;
  readonly changes: readonly PlannedChange[];
  readonly driftCorrections: number;
  readonly error: string | null;
}

export interface ReconcilerOptions {
  readonly fetchPeople: () => Promise<PeopleResult>;
  readonly wishes: WishStore;
  readonly lifecycle: Lifecycle;
  readonly serverName: string;
  /** The bot's localpart: it and its recovery admins are never acted on. */
  readonly botUsername: string;
  /** Callsigns of RM's own accounts (`anon_admin`), never people. @default [] */
  readonly rmOwnCallsigns?: readonly string[];
  /** The interop ingest bot's localpart: never acted on either. */
  readonly ingestBotUsername?: string;
  /** Restores the rooms' managed state; returns how many corrections it made (0 in dry runs). */
  readonly drift: (dryRun: boolean) => Promise<number>;
  readonly log: Logger;
  readonly metrics: Registry;
}

export interface Reconciler {
  run(options?: { dryRun?: boolean }): Promise<ReconcileReport>;
}

export function createReconciler(o: ReconcilerOptions): Reconciler {
  let running: Promise<ReconcileReport> | null = null;

  async function plan(people: PeopleResult & { ok: true }): Promise<PlannedChange[]> {
    const changes: PlannedChange[] = [];
    for (const person of people.people) {
      if (rmOwnAccount(person.callsign, o.rmOwnCallsigns ?? []) !== null) continue;
      const mxid = callsignToUserId(person.callsign, o.serverName);
      if (!mxid.ok) {
        o.log.warn("reconcile: skipping a callsign that cannot be a Matrix ID", {
          reason: mxid.reason,
        });
        continue;
      }
      const reserved = reservedAccount(mxid.userId, o.botUsername, o.ingestBotUsername);
      if (reserved !== null) {
        o.log.warn("reconcile: skipping a callsign that maps to the service's own account", {
          reason: reserved,
        });
        continue;
      }
      const wish = await o.wishes.get(mxid.userId);
      const add = (action: PlannedChange["action"]) =>
        changes.push({ userId: mxid.userId, callsign: person.callsign, action });
      if (wish?.revoked) continue; // final either way
      if (person.revoked !== null) {
        add("revoked");
        continue;
      }
      const admin = person.roles.includes("admin");
      if (admin && !wish?.admin) add("promoted");
      else if (!wish?.member) add("created");
      if (!admin && wish?.admin) add("demoted");
    }
    return changes;
  }

  async function once(dryRun: boolean): Promise<ReconcileReport> {
    const people = await o.fetchPeople();
    if (!people.ok || people.people.length === 0) {
      const error = people.ok ? "RM's list is empty; refusing to act on it" : people.message;
      o.metrics.inc("matrixrmapi_reconcile_runs_total", { result: "failed" });
      o.log.error("reconcile: not acting on RM's people list", { error });
      return { ok: false, dryRun, people: 0, changes: [], driftCorrections: 0, error };
    }
    const changes = await plan(people);
    if (!dryRun) {
      for (const c of changes) {
        const outcome = await o.lifecycle.submit({
          action: c.action,
          userId: c.userId,
          callsign: c.callsign,
          uuid: "reconcile",
          receivedAt: new Date(),
        });
        o.metrics.inc("matrixrmapi_reconcile_corrections_total", { kind: c.action });
        o.log.warn("reconcile: recorded a change RM's callbacks never delivered", {
          ...c,
          outcome: outcome.kind,
        });
      }
    }
    const driftCorrections = await o.drift(dryRun);
    // Room repairs are corrections too: the alert on hand edits rests on this counter.
    if (!dryRun && driftCorrections > 0) {
      o.metrics.inc(
        "matrixrmapi_reconcile_corrections_total",
        { kind: "room_state" },
        driftCorrections,
      );
    }
    o.metrics.inc("matrixrmapi_reconcile_runs_total", { result: dryRun ? "dry_run" : "ok" });
    o.log.info("reconcile: done", {
      people: people.people.length,
      changes: changes.length,
      drift: driftCorrections,
      dry_run: dryRun,
    });
    return {
      ok: true,
      dryRun,
      people: people.people.length,
      changes,
      driftCorrections,
      error: null,
    };
  }

  return {
    run(options = {}) {
      // One pass at a time; a request during a pass shares its result.
      running ??= once(options.dryRun ?? false)
        .catch((err) => {
          // A pass that throws (not one that reports a failure) is a failed run as well.
          o.metrics.inc("matrixrmapi_reconcile_runs_total", { result: "failed" });
          throw err;
        })
        .finally(() => (running = null));
      return running;
    },
  };
}
