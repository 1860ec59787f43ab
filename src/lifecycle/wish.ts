/**
 * @module A person's desired state in Matrix and how each callback changes it. Pure: the store
 * applies it inside an atomic KV update, so the latest arrival wins and revocation is final.
 */
import type { LifecycleAction } from "./lifecycle.ts";

export interface Wish {
  readonly member: boolean;
  readonly admin: boolean;
  readonly revoked: boolean;
  /** Was ever promoted: only then can there be admin rights to take away (saves Synapse calls). */
  readonly everAdmin: boolean;
}

export type WishChange =
  | { readonly kind: "changed"; readonly wish: Wish }
  /** Already what the callback asks for: nothing new to apply. */
  | { readonly kind: "same"; readonly wish: Wish }
  /** After a revocation only another revocation is accepted. */
  | { readonly kind: "revoked" };

const NOBODY: Wish = { member: false, admin: false, revoked: false, everAdmin: false };

/** The wish after `action` arrives on top of `current` (null: nothing known yet). */
export function nextWish(
  current: Wish | null,
  action: Exclude<LifecycleAction, "updated">,
): WishChange {
  const now = current ?? NOBODY;
  if (now.revoked) return action === "revoked" ? { kind: "same", wish: now } : { kind: "revoked" };
  const next: Wish = (() => {
    switch (action) {
      case "created":
        return { ...now, member: true };
      // An admin is a member too: their rights live in the Space and the public rooms.
      case "promoted":
        return { ...now, member: true, admin: true, everAdmin: true };
      case "demoted":
        return { ...now, admin: false };
      case "revoked":
        return { ...now, member: false, admin: false, revoked: true };
    }
  })();
  const same = next.member === now.member && next.admin === now.admin &&
    next.revoked === now.revoked && next.everAdmin === now.everAdmin;
  // Even an unchanged wish is re-applied when it arrives: RM re-sends on purpose, and Synapse
  // may have drifted (someone left a room by hand).
  return same && current !== null ? { kind: "same", wish: next } : { kind: "changed", wish: next };
}
