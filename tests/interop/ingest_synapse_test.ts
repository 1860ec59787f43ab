import assert from "node:assert/strict";
import { z } from "zod";
import { synapseTest, type TestHomeserver, uniqueName } from "../support/synapse.ts";
import { harness, newDeployment } from "../support/bootstrap.ts";
import { waitFor } from "../support/wait.ts";
import type { Ready } from "../../src/bootstrap/bootstrap.ts";
import { createInterop, type Interop } from "../../src/interop/interop.ts";
import { createInteropStore } from "../../src/store/interop.ts";
import { createMemoryLogger } from "../../src/log/logger.ts";
import { whoamiDevice } from "../../src/synapse/login.ts";
import { getUser } from "../../src/synapse/users.ts";
import { adminJoin, joinedRooms } from "../../src/synapse/membership.ts";
import { randomPassword, registerWithSharedSecret } from "../../src/synapse/registration.ts";
import { enc } from "../../src/synapse/http.ts";
import { createTestPki } from "../../tools/dev/pki.ts";

const pki = await createTestPki("interop ingest test");

interface Running {
  readonly interop: Interop;
  readonly log: ReturnType<typeof createMemoryLogger>;
  stop(): Promise<void>;
}

function start(hs: TestHomeserver, ready: Ready, kv: Deno.Kv, username: string): Running {
  const log = createMemoryLogger();
  const interop = createInterop({
    store: createInteropStore(kv),
    http: hs.http,
    admin: {
      call: (o) => hs.http.call(ready.token, o),
      current: () => ready,
      whenReady: () => Promise.resolve(ready),
    },
    caPems: () => Promise.resolve([pki.chainPem]),
    refusedCns: ["rasenmaeher"],
    registrationSecret: hs.secret,
    ingestBotUsername: username,
    serverName: hs.serverName,
    log,
    intervalMs: 250,
  });
  const abort = new AbortController();
  const running = interop.run(abort.signal);
  return {
    interop,
    log,
    async stop() {
      abort.abort();
      await running;
    },
  };
}

async function readyBot(r: Running) {
  return await waitFor("the ingest bot to be ready", async () => {
    const s = await r.interop.status();
    return s.ingestBot.ready && s.ingestBot.rooms !== null ? s.ingestBot : null;
  }, { timeoutMs: 30_000, detail: () => r.log.lines.slice(-5) });
}

async function member(hs: TestHomeserver): Promise<{ userId: string; token: string }> {
  const r = await registerWithSharedSecret(hs.http, hs.secret, {
    username: uniqueName("person"),
    password: randomPassword(),
    admin: false,
  });
  if (r.kind !== "registered") throw new Error("cannot register a person");
  return { userId: r.userId, token: r.accessToken };
}

synapseTest(
  "the ingest bot: a plain device-bound user in the Space, the public rooms and a child attached later, never the admin room",
  async (hs) => {
    await using kv = await Deno.openKv(":memory:");
    const ready = await harness(hs, newDeployment(hs), kv).runToReady();
    const admin = hs.http.as(ready.token);
    const username = uniqueName("ingest");
    const botId = `@${username}:${hs.serverName}`;
    const first = start(hs, ready, kv, username);
    try {
      const status = await readyBot(first);
      const record = (await createInteropStore(kv).getIngestToken())!;
      const who = await whoamiDevice(hs.http.as(record.accessToken));
      assert.deepEqual(who, { kind: "valid", userId: botId, deviceId: record.deviceId });
      assert.equal(status.deviceId, record.deviceId);
      assert.equal((await getUser(admin, botId))?.admin, false);
      const limits = await admin.call({
        method: "GET",
        path: `/_synapse/admin/v1/users/${enc(botId)}/override_ratelimit`,
        schema: z.object({ messages_per_second: z.number(), burst_count: z.number() }),
      });
      assert.deepEqual(limits, { messages_per_second: 0, burst_count: 0 });
      const joined = await joinedRooms(admin, botId);
      for (const key of ["space", "general", "helpdesk", "offtopic"] as const) {
        assert.ok(joined.includes(ready.rooms[key]), `in ${key}`);
      }
      assert.ok(!joined.includes(ready.rooms.admin), "never in the admin room");

      // An ordinary member creates a room after start and attaches it to the Space.
      const person = await member(hs);
      assert.equal(await adminJoin(admin, ready.rooms.space, person.userId), "joined");
      const created = await hs.http.call(person.token, {
        method: "POST",
        path: "/_matrix/client/v3/createRoom",
        json: { preset: "public_chat", name: "BattleLog ingest", room_version: "11" },
        schema: z.object({ room_id: z.string() }),
      });
      await hs.http.call(person.token, {
        method: "PUT",
        path: `/_matrix/client/v3/rooms/${enc(ready.rooms.space)}/state/m.space.child/${
          enc(created.room_id)
        }`,
        json: { via: [hs.serverName] },
        schema: z.unknown(),
      });
      await waitFor(
        "the ingest bot in the new child room",
        async () => (await joinedRooms(admin, botId)).includes(created.room_id),
        { timeoutMs: 20_000 },
      );
      assert.ok(!(await joinedRooms(admin, botId)).includes(ready.rooms.admin));

      // As BattleLog does: the bot makes its own unencrypted room and attaches it to the Space.
      const own = await hs.http.call(record.accessToken, {
        method: "POST",
        path: "/_matrix/client/v3/createRoom",
        json: {
          preset: "private_chat",
          name: "BattleLog",
          room_version: "11",
          initial_state: [{
            type: "m.room.join_rules",
            state_key: "",
            content: {
              join_rule: "restricted",
              allow: [{ type: "m.room_membership", room_id: ready.rooms.space }],
            },
          }],
        },
        schema: z.object({ room_id: z.string() }),
      });
      await hs.http.call(record.accessToken, {
        method: "PUT",
        path: `/_matrix/client/v3/rooms/${enc(ready.rooms.space)}/state/m.space.child/${
          enc(own.room_id)
        }`,
        json: { via: [hs.serverName], suggested: true },
        schema: z.unknown(),
      });

      // Granted through RM, BattleLog's CN gets exactly this token.
      const cn = "battlelog.interop.example.fi";
      const leaf = await pki.issueLeaf({ cn, kind: "client" });
      const granted = await first.interop.grant({ certcn: cn, x509cert: leaf.certPem, by: "rm" });
      assert.equal(granted.kind, "granted");
      assert.deepEqual(await first.interop.authz(cn), {
        kind: "granted",
        token: record.accessToken,
        userId: botId,
      });
      assert.deepEqual(await first.interop.authz("other.example.fi"), { kind: "forbidden" });
    } finally {
      await first.stop();
    }

    // A restart keeps the token, the device and the grant.
    const second = start(hs, ready, kv, username);
    try {
      const again = await readyBot(second);
      const record = (await createInteropStore(kv).getIngestToken())!;
      assert.equal(again.deviceId, record.deviceId);
      const authz = await second.interop.authz("battlelog.interop.example.fi");
      assert.equal(authz.kind, "granted");
      if (authz.kind === "granted") assert.equal(authz.token, record.accessToken);
      assert.equal(record.source, "registered");
    } finally {
      await second.stop();
    }
  },
);

synapseTest(
  "a lost ingest token is replaced on the same device; a lost record gets a new device, loudly",
  async (hs) => {
    await using kv = await Deno.openKv(":memory:");
    const ready = await harness(hs, newDeployment(hs), kv).runToReady();
    const username = uniqueName("ingest");
    const store = createInteropStore(kv);
    const first = start(hs, ready, kv, username);
    await readyBot(first);
    await first.stop();
    const original = (await store.getIngestToken())!;

    // Our copy of the token no longer works (expired, or a stale copy): same device, new token.
    await store.setIngestToken({ ...original, accessToken: "syt_no_longer_valid" });
    const second = start(hs, ready, kv, username);
    const recovered = await readyBot(second);
    await second.stop();
    const now = (await store.getIngestToken())!;
    assert.equal(recovered.deviceId, original.deviceId);
    assert.equal(now.deviceId, original.deviceId);
    assert.notEqual(now.accessToken, "syt_no_longer_valid");
    assert.equal(now.source, "recovered");
    const who = await whoamiDevice(hs.http.as(now.accessToken));
    assert.equal(who.kind === "valid" && who.deviceId, original.deviceId);
    assert.match(second.log.lines.join("\n"), /logging in on the same device/);
    assert.doesNotMatch(second.log.lines.join("\n"), new RegExp(now.accessToken));

    // Nothing of ours survived (a fresh database): the account exists, so a new device, loudly.
    await using fresh = await Deno.openKv(":memory:");
    const third = start(hs, ready, fresh, username);
    const adopted = await readyBot(third);
    await third.stop();
    assert.notEqual(adopted.deviceId, original.deviceId);
    assert.match(third.log.lines.join("\n"), /NEW DEVICE/);
  },
);
