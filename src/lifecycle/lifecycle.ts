/**
 * @module The user-lifecycle boundary the HTTP layer hands callbacks to: the event, the possible
 * outcomes, and a lifecycle that records nothing (for routes built without a service: the OpenAPI
 * document, HTTP tests). The service's lifecycle is `durable.ts`, wired with the worker by
 * `wireLifecycle` (src/service/parts.ts).
 */

export type LifecycleAction = "created" | "revoked" | "promoted" | "demoted" | "updated";

/** One callback from Rasenmaeher, already validated and mapped to a Matrix ID. */
export interface LifecycleEvent {
  readonly action: LifecycleAction;
  readonly userId: string;
  readonly callsign: string;
  readonly uuid: string;
  readonly receivedAt: Date;
}

/** What became of a callback; the route turns this into the contract's answer. */
export type LifecycleOutcome =
  /** Durably recorded; it will be applied, at least once. */
  | { readonly kind: "accepted"; readonly detail: string }
  /** Nothing to do in Matrix for this event. */
  | { readonly kind: "noop"; readonly detail: string }
  /** Refused on purpose (a revocation is final). */
  | { readonly kind: "conflict"; readonly reason: string }
  /** Not recorded: the caller must not be told it succeeded. */
  | { readonly kind: "unavailable"; readonly reason: string };

export interface Lifecycle {
  submit(event: LifecycleEvent): Promise<LifecycleOutcome>;
}

/**
 * Answers every event that needs Matrix work with `unavailable`: nothing behind it records the
 * wish, and a success that was not earned would make RM believe the work was done.
 */
export function createUnavailableLifecycle(
  /** Where the bootstrap is, for the answer (e.g. `waiting_for_synapse`). */
  bootstrapPhase: () => string = () => "unknown",
): Lifecycle {
  return {
    submit(event) {
      if (event.action === "updated") {
        return Promise.resolve({
          kind: "noop",
          detail: "A callsign change needs a new Matrix account; nothing was changed in Matrix",
        });
      }
      return Promise.resolve({
        kind: "unavailable",
        reason:
          `The Matrix user lifecycle is not available yet (bootstrap: ${bootstrapPhase()}); ` +
          `${event.action} for ${event.userId} was not applied or recorded`,
      });
    },
  };
}
