import assert from "node:assert/strict";
import { waitFor } from "../support/wait.ts";
import { homeserver, synapseTest, testAdmin, type TestHomeserver } from "../support/synapse.ts";
import { harness, newDeployment } from "../support/bootstrap.ts";
import { roomState } from "../../src/synapse/rooms.ts";
import { ROOM_KEYS, roomAlias } from "../../src/matrix/deployment.ts";
import { CALL_EVENTS, PROTECTED_EVENTS } from "../../src/rooms/spec.ts";
import { z } from "zod";

type Content = Record<string, unknown>;

async function stateOf(hs: TestHomeserver, token: string, roomId: string) {
  const events = await roomState(hs.http.as(token), roomId);
  const get = (type: string, key = ""): Content | undefined =>
    events.find((e) => e.type === type && e.state_key === key)?.content;
  return { events, get };
}

async function roomsCreatedBy(hs: TestHomeserver, adminToken: string, creator: string) {
  const r = await hs.http.call(adminToken, {
    method: "GET",
    path: "/_synapse/admin/v1/rooms",
    searchParams: { limit: "1000" },
    schema: z.object({
      rooms: z.array(z.object({ room_id: z.string(), creator: z.string().nullable() }).loose()),
    }),
  });
  return r.rooms.filter((room) => room.creator === creator);
}

synapseTest(
  "a fresh bootstrap creates exactly the Space and four rooms as specified",
  async (hs) => {
    const dep = newDeployment(hs);
    await using kv = await Deno.openKv(":memory:");
    const h = harness(hs, dep, kv);
    const ready = await h.runToReady();
    const admin = await testAdmin(hs);
    const s = hs.serverName;

    assert.equal((await roomsCreatedBy(hs, admin, dep.botUserId)).length, 5);
    for (const key of ROOM_KEYS) {
      const { get } = await stateOf(hs, admin, ready.rooms[key]);
      assert.equal(get("m.room.canonical_alias")?.alias, roomAlias(dep.deployment, key, s), key);
      assert.equal(get("m.room.create")?.room_version, "11", key);
      const levels = get("m.room.power_levels")!;
      assert.equal((levels.users as Content)[dep.botUserId], 200, key);
      const events = levels.events as Content;
      for (const e of PROTECTED_EVENTS) assert.equal(events[e], 100, `${key} ${e}`);
      for (const e of CALL_EVENTS) assert.equal(events[e], 0, `${key} ${e}`);
      assert.equal(events["m.room.name"], 50, `${key} keeps Synapse's other defaults`);
      assert.equal(levels.state_default, 50);
      assert.equal(levels.kick, 50);
      if (key === "space") {
        assert.equal(get("m.room.create")?.type, "m.space");
        assert.equal(get("m.room.name")?.name, dep.deployment);
        assert.deepEqual(get("m.room.join_rules"), { join_rule: "invite" });
        assert.equal(events["m.space.child"], 0);
        assert.equal(get("m.room.encryption"), undefined);
      } else {
        assert.deepEqual(get("m.room.encryption"), { algorithm: "m.megolm.v1.aes-sha2" });
        assert.deepEqual(get("m.room.history_visibility"), { history_visibility: "joined" });
        assert.deepEqual(get("m.space.parent", ready.rooms.space), { via: [s], canonical: true });
      }
    }
    const general = await stateOf(hs, admin, ready.rooms.general);
    assert.equal(general.get("m.room.name")?.name, "98-General");
    assert.equal(
      general.get("m.room.topic")?.topic,
      "Work discussion that does not fit any other room.",
    );
    assert.deepEqual(general.get("m.room.join_rules"), {
      join_rule: "restricted",
      allow: [{ type: "m.room_membership", room_id: ready.rooms.space }],
    });
    assert.equal(
      (await stateOf(hs, admin, ready.rooms.helpdesk)).get("m.room.name")?.name,
      "99-Helpdesk",
    );
    assert.equal(
      (await stateOf(hs, admin, ready.rooms.offtopic)).get("m.room.name")?.name,
      "97-Offtopic",
    );
    const adminRoom = await stateOf(hs, admin, ready.rooms.admin);
    assert.equal(adminRoom.get("m.room.name")?.name, "96-Admin channel");
    assert.deepEqual(adminRoom.get("m.room.join_rules"), { join_rule: "invite" });

    // The hierarchy Element shows: the Space with its four children, each with a non-empty via.
    const hierarchy = await hs.http.call(admin, {
      method: "GET",
      path: `/_synapse/admin/v1/rooms/${encodeURIComponent(ready.rooms.space)}/hierarchy`,
      schema: z.object({ rooms: z.array(z.object({ room_id: z.string() }).loose()) }),
    });
    const children = hierarchy.rooms.map((r) => r.room_id).filter((id) => id !== ready.rooms.space)
      .sort();
    assert.deepEqual(
      children,
      [ready.rooms.general, ready.rooms.helpdesk, ready.rooms.offtopic, ready.rooms.admin].sort(),
    );
    assert.equal(h.bootstrap.status().phase, "ready");
    assert.deepEqual((await h.store.getRooms())?.rooms, ready.rooms);
  },
);

synapseTest("a second start reuses the token and rooms and writes no state event", async (hs) => {
  const dep = newDeployment(hs);
  await using kv = await Deno.openKv(":memory:");
  const first = await harness(hs, dep, kv).runToReady();
  const admin = await testAdmin(hs);
  const snapshot = async () => {
    const ids: string[] = [];
    for (const key of ROOM_KEYS) {
      for (const e of (await stateOf(hs, admin, first.rooms[key])).events) {
        ids.push(String(e.event_id));
      }
    }
    return ids.sort();
  };
  const before = await snapshot();
  const again = harness(hs, dep, kv);
  const second = await again.runToReady();
  assert.deepEqual(second.rooms, first.rooms);
  assert.equal(second.token, first.token);
  assert.deepEqual(await snapshot(), before);
  assert.match(again.log.lines.join("\n"), /"rooms_created":0,"state_writes":0/);
  assert.equal((await roomsCreatedBy(hs, admin, dep.botUserId)).length, 5);
});

synapseTest(
  "two bootstraps sharing one KV do not run at once and create no duplicates",
  async (hs) => {
    const dep = newDeployment(hs);
    await using kv = await Deno.openKv(":memory:");
    const a = harness(hs, dep, kv, { holder: "a" });
    const b = harness(hs, dep, kv, { holder: "b" });
    const [ra, rb] = await Promise.all([a.runToReady(), b.runToReady()]);
    assert.deepEqual(ra.rooms, rb.rooms);
    const admin = await testAdmin(hs);
    assert.equal((await roomsCreatedBy(hs, admin, dep.botUserId)).length, 5);
    const waited = [...a.log.lines, ...b.log.lines].filter((l) =>
      /lease held by another bootstrap/.test(l)
    );
    assert.ok(waited.length >= 1, "neither bootstrap ever waited for the other");
  },
);

if (homeserver !== null) {
  // Only meaningful with Python available: it starts a second, late homeserver.
  synapseTest(
    "a bootstrap started before Synapse waits and completes once Synapse appears",
    async (hs) => {
      const { startHomeserver } = await import("../../tools/synapse/homeserver.ts");
      const { createSynapseHttp } = await import("../../src/synapse/http.ts");
      const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const port = (listener.addr as Deno.NetAddr).port;
      listener.close();
      const late = {
        ...hs,
        serverName: "late.test",
        url: `http://127.0.0.1:${port}`,
        secret: "late-secret",
      };
      const dep = newDeployment(late);
      await using kv = await Deno.openKv(":memory:");
      const h = harness(late, dep, kv, { http: createSynapseHttp({ baseUrl: late.url }) });
      const running = h.runToReady(90_000);
      await waitFor("a failed look for Synapse", () => h.bootstrap.status().lastError !== null);
      assert.equal(h.bootstrap.status().phase, "waiting_for_synapse");
      assert.match(h.bootstrap.status().lastError ?? "", /unreachable/);
      const server = await startHomeserver({
        serverName: "late.test",
        port,
        registrationSecret: late.secret,
      });
      try {
        const ready = await running;
        assert.equal(h.bootstrap.status().phase, "ready");
        assert.ok(ready.rooms.space.startsWith("!"));
      } finally {
        await server.stop();
      }
    },
  );
}

synapseTest(
  "two room creators racing for the same aliases converge on the same rooms",
  async (hs) => {
    const { ensureRooms } = await import("../../src/rooms/ensure.ts");
    const { createMemoryLogger } = await import("../../src/log/logger.ts");
    const dep = newDeployment(hs);
    await using kv = await Deno.openKv(":memory:");
    // A token for the bot, without running a bootstrap (and so without its lease).
    const token = (await harness(hs, dep, kv).runToReady()).token;
    const fresh = { ...dep, deployment: `${dep.deployment}r` };
    const ctx = {
      synapse: hs.http.as(token),
      botUserId: dep.botUserId,
      deployment: fresh.deployment,
      serverName: hs.serverName,
      log: createMemoryLogger(),
    };
    const [a, b] = await Promise.all([ensureRooms(ctx), ensureRooms(ctx)]);
    assert.deepEqual(a.ids, b.ids);
    assert.equal(new Set(Object.values(a.ids)).size, 5);
  },
);

synapseTest(
  "rooms found by alias that the bot is not in are adopted, not duplicated",
  async (hs) => {
    const dep = newDeployment(hs);
    await using kvA = await Deno.openKv(":memory:");
    const first = await harness(hs, dep, kvA).runToReady();
    // Another bot, same deployment: as after renaming SYNAPSE_BOT_USERNAME.
    const other = { ...newDeployment(hs), deployment: dep.deployment };
    await using kvB = await Deno.openKv(":memory:");
    const h = harness(hs, other, kvB);
    const second = await h.runToReady();
    assert.deepEqual(second.rooms, first.rooms);
    assert.match(h.log.lines.join("\n"), /adopted an existing room the bot was not in/);
    const admin = await testAdmin(hs);
    const levels = (await stateOf(hs, admin, second.rooms.general)).get("m.room.power_levels")!;
    assert.equal((levels.users as Content)[other.botUserId], 200);
  },
);
