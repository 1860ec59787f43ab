/**
 * @module The drift pass: the rooms' managed state (join rules, encryption, history, links,
 * names, topics) and power levels (bot, protected events, admins per the recorded wishes) brought
 * back to the spec by the rooms' one state routine, each correction logged and counted.
 */
import type { WishRecord, WishStore } from "../store/wishes.ts";
import { reconcileRoomState, type RoomStateContext } from "../rooms/state.ts";
import { ADMIN_LEVEL } from "../rooms/spec.ts";

export interface DriftContext extends RoomStateContext {
  readonly wishes: WishStore;
}

/** Returns how many state events differed from the spec (and were written, unless a dry run). */
export async function correctDrift(ctx: DriftContext, dryRun: boolean): Promise<number> {
  const wishes = await ctx.wishes.listAll();
  const changes = await reconcileRoomState(ctx, {
    purpose: "drift",
    dryRun,
    users: (key, users, joined) => {
      if (key !== "admin") adminLevels(wishes, users, joined);
    },
  });
  return changes.length;
}

/**
 * Admins get their level once they are in the room; an entry for someone revoked, never logged
 * in, or no longer an admin is removed, so the state stays bounded. A wish still converging is
 * the worker's.
 */
function adminLevels(
  wishes: readonly WishRecord[],
  users: Record<string, number>,
  joined: ReadonlySet<string>,
): void {
  for (const w of wishes) {
    if (w.revoked) delete users[w.userId];
    else if (w.admin && joined.has(w.userId)) users[w.userId] = ADMIN_LEVEL;
    else if (w.admin && w.pendingSince !== null) continue;
    else if (w.everAdmin) delete users[w.userId];
  }
}
