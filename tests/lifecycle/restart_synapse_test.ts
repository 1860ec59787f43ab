import assert from "node:assert/strict";
import { startServiceProcess, writeManifest } from "../support/service.ts";
import { crud } from "../support/app.ts";
import {
  serviceEnv,
  synapseTest,
  testAdmin,
  type TestHomeserver,
  uniqueName,
} from "../support/synapse.ts";
import { startFaultProxy } from "../support/proxy.ts";
import { randomPassword, registerWithSharedSecret } from "../../src/synapse/registration.ts";
import { joinedRooms } from "../../src/synapse/membership.ts";
import { z } from "zod";
import { waitFor } from "../support/wait.ts";

/** The rooms `userId` is in once there are `count` of them, or when `ms` have passed. */
async function joinedWithin(
  hs: TestHomeserver,
  token: string,
  userId: string,
  count: number,
  ms: number,
) {
  let rooms: string[] = [];
  await waitFor(`${count} rooms`, async () => {
    rooms = await joinedRooms(hs.http.as(token), userId);
    return rooms.length >= count;
  }, { timeoutMs: ms, intervalMs: 200 }).catch(() => {}); // the caller asserts on what it got
  return rooms;
}

/** A person who has logged in to Matrix (their account exists), with a fresh callsign. */
async function loggedInPerson(hs: TestHomeserver, prefix: string) {
  const callsign = uniqueName(prefix);
  await registerWithSharedSecret(hs.http, hs.secret, {
    username: callsign.toLowerCase(),
    password: randomPassword(),
    admin: false,
  });
  return { callsign, userId: `@${callsign.toLowerCase()}:${hs.serverName}` };
}

/** The service against `synapseUrl`, keeping its state (KV, PKI, manifest) in `dir`. */
async function service(hs: TestHomeserver, synapseUrl: string, dir: string, bot: string) {
  const manifest = `${dir}/kraftwerk-init.json`;
  if (!(await Deno.stat(manifest).catch(() => null))) {
    await writeManifest(manifest, uniqueName("kill"), hs.serverName);
  }
  const svc = await startServiceProcess({
    dir,
    until: "ready",
    env: serviceEnv(hs, { bot, manifest, url: synapseUrl }),
  });
  const asRm = async (path: string, body: unknown) => {
    const res = await svc.call("rm", path, body);
    return { status: res.status, body: JSON.parse(res.text) };
  };
  return { ...svc, asRm };
}

synapseTest(
  "work pending when the service is killed with SIGKILL is applied after the restart",
  async (hs) => {
    const dir = await Deno.makeTempDir({ prefix: "kill9-" });
    const proxy = startFaultProxy(hs.url);
    const bot = uniqueName("killbot");
    const { callsign, userId } = await loggedInPerson(hs, "KILL");
    try {
      const first = await service(hs, proxy.url, dir, bot);
      proxy.down();
      const answer = await first.asRm("/api/v1/users/created", crud(callsign));
      assert.equal(answer.status, 200);
      assert.equal(answer.body.success, true);
      assert.match(answer.body.extra, /^accepted: /);
      const killed = await first.kill9();
      assert.notEqual(killed.code, 0);
      proxy.up();

      const second = await service(hs, proxy.url, dir, bot);
      try {
        const admin = await testAdmin(hs);
        const rooms = await joinedWithin(hs, admin, userId, 4, 60_000);
        assert.equal(rooms.length, 4, "the created callback was lost across kill -9");
      } finally {
        await second.stop();
      }
    } finally {
      await proxy.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
);

synapseTest(
  "a bot token revoked while the service runs is replaced and pending work still lands",
  async (hs) => {
    const dir = await Deno.makeTempDir({ prefix: "revoked-token-" });
    const bot = uniqueName("tokbot");
    const { callsign, userId } = await loggedInPerson(hs, "TOK");
    try {
      const svc = await service(hs, hs.url, dir, bot);
      try {
        const admin = await testAdmin(hs);
        const botId = `@${bot}:${hs.serverName}`;
        const devices = await hs.http.call(admin, {
          method: "GET",
          path: `/_synapse/admin/v2/users/${encodeURIComponent(botId)}/devices`,
          schema: z.object({ devices: z.array(z.object({ device_id: z.string() }).loose()) }),
        });
        await hs.http.call(admin, {
          method: "POST",
          path: `/_synapse/admin/v2/users/${encodeURIComponent(botId)}/delete_devices`,
          json: { devices: devices.devices.map((d) => d.device_id) },
          schema: z.unknown(),
        });
        const answer = await svc.asRm("/api/v1/users/created", crud(callsign));
        assert.equal(answer.body.success, true);
        const rooms = await joinedWithin(hs, admin, userId, 4, 60_000);
        assert.equal(rooms.length, 4);
      } finally {
        const out = await svc.stop();
        assert.match(out.stderr, /the bot's token was rejected; bootstrapping again/);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
