import assert from "node:assert/strict";
import { z } from "zod";
import { synapseTest, testAdmin, type TestHomeserver } from "../support/synapse.ts";
import { harness, newDeployment } from "../support/bootstrap.ts";
import { randomPassword, registerWithSharedSecret } from "../../src/synapse/registration.ts";
import { deactivateUser, whoami } from "../../src/synapse/users.ts";
import { obtainBotToken } from "../../src/bootstrap/token.ts";
import { createStore } from "../../src/store/store.ts";
import { createMemoryLogger } from "../../src/log/logger.ts";

synapseTest("a bot token revoked in Synapse is detected and replaced", async (hs) => {
  const dep = newDeployment(hs);
  await using kv = await Deno.openKv(":memory:");
  const first = await harness(hs, dep, kv).runToReady();
  await hs.http.call(first.token, {
    method: "POST",
    path: "/_matrix/client/v3/logout",
    json: {},
    schema: z.unknown(),
  });
  assert.equal((await whoami(hs.http.as(first.token))).kind, "invalid");

  const again = harness(hs, dep, kv);
  const second = await again.runToReady();
  assert.notEqual(second.token, first.token);
  assert.deepEqual(await whoami(hs.http.as(second.token)), {
    kind: "valid",
    userId: dep.botUserId,
  });
  assert.deepEqual(second.rooms, first.rooms);
  const log = again.log.lines.join("\n");
  assert.match(log, /stored bot token is no longer accepted/);
  assert.match(log, /recovered the bot through a one-off admin/);
  assert.equal((await again.store.getBotToken())?.accessToken, second.token);
});

synapseTest("the Python original's token file is imported into KV", async (hs) => {
  const dep = newDeployment(hs);
  const legacy = await registerWithSharedSecret(hs.http, hs.secret, {
    username: dep.botUsername,
    password: randomPassword(),
    admin: true,
  });
  assert.equal(legacy.kind, "registered");
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/synapse_admin_token`;
    await Deno.writeTextFile(file, (legacy.kind === "registered" ? legacy.accessToken : "") + "\n");
    await using kv = await Deno.openKv(":memory:");
    const h = harness(hs, { ...dep, legacyTokenFile: file }, kv);
    const ready = await h.runToReady();
    assert.equal(ready.token, legacy.kind === "registered" ? legacy.accessToken : "");
    const stored = await h.store.getBotToken();
    assert.equal(stored?.source, "legacy-file");
    assert.match(
      h.log.lines.join("\n"),
      /imported the bot token from the Python original's token file/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

synapseTest(
  "a bot that exists with its token lost is recovered, and the helper admin is retired",
  async (hs) => {
    const dep = newDeployment(hs);
    await registerWithSharedSecret(hs.http, hs.secret, {
      username: dep.botUsername,
      password: randomPassword(),
      admin: false, // also proves the recovery makes the bot a server admin
    });
    await using kv = await Deno.openKv(":memory:");
    const h = harness(hs, dep, kv);
    const ready = await h.runToReady();
    assert.deepEqual(await whoami(hs.http.as(ready.token)), {
      kind: "valid",
      userId: dep.botUserId,
    });
    assert.equal((await h.store.getBotToken())?.source, "recovered");
    const line = h.log.lines.map((l) => JSON.parse(l)).find((l) =>
      /recovered the bot/.test(l.message)
    );
    const helper = z.object({ deactivated: z.boolean(), locked: z.boolean(), admin: z.boolean() })
      .loose().parse(
        await hs.http.call(ready.token, {
          method: "GET",
          path: `/_synapse/admin/v2/users/${encodeURIComponent(line.helper)}`,
          schema: z.unknown(),
        }),
      );
    // Locked and no admin; not deactivated, which would delete the bot's token it minted.
    assert.deepEqual([helper.locked, helper.admin, helper.deactivated], [true, false, false]);
    assert.doesNotMatch(h.log.lines.join("\n"), new RegExp(ready.token));
  },
);

synapseTest("a stored token of a bot that is no admin is repaired, not trusted", async (hs) => {
  const dep = newDeployment(hs);
  const plain = await registerWithSharedSecret(hs.http, hs.secret, {
    username: dep.botUsername,
    password: randomPassword(),
    admin: false,
  });
  assert.equal(plain.kind, "registered");
  await using kv = await Deno.openKv(":memory:");
  const h = harness(hs, dep, kv);
  await h.store.setBotToken({
    version: 1,
    userId: dep.botUserId,
    accessToken: plain.kind === "registered" ? plain.accessToken : "",
    obtainedAt: new Date().toISOString(),
    source: "registered",
  });
  await h.runToReady();
  assert.match(h.log.lines.join("\n"), /the bot is not a server admin/);
});

synapseTest(
  "a deactivated bot is reported once and does not mint a recovery admin on every retry",
  async (hs) => {
    const dep = newDeployment(hs);
    const bot = await registerWithSharedSecret(hs.http, hs.secret, {
      username: dep.botUsername,
      password: randomPassword(),
      admin: true,
    });
    assert.equal(bot.kind, "registered");
    const botToken = bot.kind === "registered" ? bot.accessToken : "";
    const inspector = await testAdmin(hs);
    await deactivateUser(hs.http.as(inspector), dep.botUserId, true);
    await using kv = await Deno.openKv(":memory:");
    const store = createStore(kv);
    const log = createMemoryLogger();
    const ctx = {
      http: hs.http,
      store,
      registrationSecret: hs.secret,
      botUsername: dep.botUsername,
      serverName: hs.serverName,
      legacyTokenFile: "/nonexistent/synapse_admin_token",
      readText: () => Promise.resolve(null),
      log,
    };
    for (let attempt = 1; attempt <= 3; attempt++) {
      await assert.rejects(obtainBotToken(ctx), /is deactivated.*SYNAPSE_BOT_USERNAME/s);
    }
    const helpers = await listUsers(hs, inspector, `${dep.botUsername}-recovery-`);
    assert.equal(helpers.length, 1, "one recovery admin in all, not one per attempt");
    assert.equal(
      log.lines.filter((l) => l.includes("the bot cannot be recovered")).length,
      1,
      "said loudly, once",
    );
    assert.notEqual(botToken, "");
  },
);

/** Synapse's users whose name starts with `prefix` (the admin user list, deactivated included). */
async function listUsers(hs: TestHomeserver, token: string, prefix: string): Promise<string[]> {
  const reply = await hs.http.call(token, {
    method: "GET",
    path: "/_synapse/admin/v2/users",
    searchParams: { name: prefix, deactivated: "true", limit: "100" },
    schema: z.object({ users: z.array(z.object({ name: z.string() }).loose()) }).loose(),
  });
  return reply.users.map((u) => u.name).filter((n) => n.slice(1).startsWith(prefix));
}
