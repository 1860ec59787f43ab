/**
 * @module The drift pass: the rooms' managed state (join rules, encryption, history, links,
 * names, topics) and power levels (bot, protected events, admins per the recorded wishes) brought
 * back to the spec, each correction logged. Power levels go through the per-room serialiser.
 */
import type { Logger } from "../log/logger.ts";
import { ROOM_KEYS, type RoomIds } from "../matrix/deployment.ts";
import type { SynapseHttp } from "../synapse/http.ts";
import { putState, roomState } from "../synapse/rooms.ts";
import { deepEqual, desiredPowerLevels, roomStateSpec } from "../bootstrap/spec.ts";
import type { PowerLevelWriter } from "../lifecycle/power_levels.ts";
import { ADMIN_LEVEL } from "../lifecycle/converge.ts";
import type { WishStore } from "../store/wishes.ts";

export interface DriftContext {
  readonly http: SynapseHttp;
  readonly token: string;
  readonly rooms: RoomIds;
  readonly botUserId: string;
  readonly deployment: string;
  readonly serverName: string;
  readonly levels: PowerLevelWriter;
  readonly wishes: WishStore;
  readonly log: Logger;
}

export async function correctDrift(ctx: DriftContext, dryRun: boolean): Promise<number> {
  let corrections = 0;
  const wishes = await ctx.wishes.listAll();
  for (const key of ROOM_KEYS) {
    const roomId = ctx.rooms[key];
    const state = await roomState(ctx.http, ctx.token, roomId);
    const current = (type: string, stateKey = "") =>
      state.find((e) => e.type === type && e.state_key === stateKey)?.content ?? null;
    for (const spec of roomStateSpec(key, ctx.rooms, ctx.deployment, ctx.serverName)) {
      const now = current(spec.type, spec.stateKey);
      if (now !== null && spec.satisfiedBy(now)) continue;
      corrections++;
      ctx.log.warn("drift: room state differs from the spec", {
        room: key,
        type: spec.type,
        dry_run: dryRun,
      });
      if (!dryRun) {
        await putState(ctx.http, ctx.token, roomId, spec.type, spec.stateKey, spec.content);
      }
    }
    corrections += await ctx.levels.exclusive(roomId, async () => {
      const fresh = (await roomState(ctx.http, ctx.token, roomId)).find((e) =>
        e.type === "m.room.power_levels"
      )
        ?.content ?? null;
      const desired = desiredPowerLevels(fresh, key, ctx.botUserId);
      if (key !== "admin") {
        const users = desired.users as Record<string, number>;
        const joined = new Set(
          state.filter((e) => e.type === "m.room.member" && e.content.membership === "join")
            .map((e) => e.state_key),
        );
        for (const w of wishes) {
          // Admins get their level once they are in the room; an entry for someone revoked, never
          // logged in, or no longer an admin is removed, so the state stays bounded.
          if (w.revoked) delete users[w.userId];
          else if (w.admin && joined.has(w.userId)) users[w.userId] = ADMIN_LEVEL;
          else if (w.admin && w.pendingSince !== null) continue; // converging: the worker's
          else if (w.everAdmin) delete users[w.userId];
        }
      }
      if (deepEqual(fresh, desired)) return 0;
      ctx.log.warn("drift: power levels differ from the spec", { room: key, dry_run: dryRun });
      if (!dryRun) await putState(ctx.http, ctx.token, roomId, "m.room.power_levels", "", desired);
      return 1;
    });
  }
  return corrections;
}
