/**
 * The whole point of the device-bound token, end to end with a real Matrix client library:
 * matrix-js-sdk with its Rust crypto (pinned in tests/interop/e2e/, installed here with `npm ci`
 * into .local/, run under the machine's Node). A person sends in the encrypted general room; the
 * ingest bot's device, with the token BattleLog gets from `/interop/authz`, decrypts it.
 */
import assert from "node:assert/strict";
import { z } from "zod";
import { synapseTest, type TestHomeserver, uniqueName } from "../support/synapse.ts";
import { harness, newDeployment } from "../support/bootstrap.ts";
import { waitFor } from "../support/wait.ts";
import { mtls, TEST_SNAPSHOT } from "../support/app.ts";
import { testConfig } from "../support/config.ts";
import { createApp } from "../../src/http/app.ts";
import { createUnavailableLifecycle } from "../../src/lifecycle/lifecycle.ts";
import { createInterop } from "../../src/interop/interop.ts";
import { createInteropStore } from "../../src/store/interop.ts";
import { createMemoryLogger } from "../../src/log/logger.ts";
import { whoamiDevice } from "../../src/synapse/login.ts";
import { adminJoin } from "../../src/synapse/membership.ts";
import { randomPassword, registerWithSharedSecret } from "../../src/synapse/registration.ts";
import { enc } from "../../src/synapse/http.ts";
import { createTestPki } from "../../tools/dev/pki.ts";

const root = new URL("../../", import.meta.url).pathname;
const PINNED = `${root}tests/interop/e2e`;
const CLIENT = `${root}.local/e2e-client`;

/** `npm ci` of the pinned client into .local/, once per lock file. */
async function installClient(): Promise<void> {
  const lock = await Deno.readTextFile(`${PINNED}/package-lock.json`);
  const installed = await Deno.readTextFile(`${CLIENT}/package-lock.json`).catch(() => null);
  const present = await Deno.stat(`${CLIENT}/node_modules/matrix-js-sdk/package.json`)
    .then(() => true, () => false);
  // ESM resolves packages beside the script only: the script runs from the install.
  await Deno.mkdir(CLIENT, { recursive: true });
  await Deno.copyFile(`${PINNED}/decrypt.mjs`, `${CLIENT}/decrypt.mjs`);
  if (installed === lock && present) return;
  await Deno.mkdir(CLIENT, { recursive: true });
  for (const f of ["package.json", "package-lock.json"]) {
    await Deno.copyFile(`${PINNED}/${f}`, `${CLIENT}/${f}`);
  }
  const out = await new Deno.Command("npm", {
    args: ["ci", "--no-audit", "--no-fund", "--ignore-scripts"],
    cwd: CLIENT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`npm ci of the Matrix client failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}

async function person(hs: TestHomeserver) {
  const r = await registerWithSharedSecret(hs.http, hs.secret, {
    username: uniqueName("person"),
    password: randomPassword(),
    admin: false,
  });
  if (r.kind !== "registered" || r.deviceId === null) throw new Error("cannot register a person");
  return r;
}

synapseTest(
  "end to end: the ingest bot's device decrypts a person's message in the encrypted general room",
  async (hs) => {
    await installClient();
    await using kv = await Deno.openKv(":memory:");
    const ready = await harness(hs, newDeployment(hs), kv).runToReady();
    const admin = hs.http.as(ready.token);
    const pki = await createTestPki("interop e2e test");
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
      ingestBotUsername: uniqueName("ingest"),
      serverName: hs.serverName,
      log,
      intervalMs: 500,
    });
    const abort = new AbortController();
    const running = interop.run(abort.signal);
    try {
      await waitFor("the ingest bot in its rooms", async () => {
        const s = await interop.status();
        return s.ingestBot.ready && (s.ingestBot.rooms ?? 0) >= 4;
      }, { timeoutMs: 30_000, detail: () => log.lines.slice(-5) });

      // RM grants BattleLog; BattleLog asks for its credentials as it does, with its certificate.
      const cn = "battlelog.e2e.example.fi";
      const leaf = await pki.issueLeaf({ cn, kind: "client" });
      const app = createApp({
        config: await testConfig(),
        lifecycle: createUnavailableLifecycle(),
        interop,
        health: () => ({ healthy: true, extra: null }),
        status: () => TEST_SNAPSHOT,
        metrics: () => Promise.resolve(""),
        reconcile: () => Promise.resolve(null),
        log,
      });
      const added = await app.request("//api/v1/interop/add", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ certcn: cn, x509cert: leaf.certPem.replaceAll("\n", "\\n") }),
      }, mtls({ cn: "rasenmaeher", dn: "CN=rasenmaeher", serial: "1", via: "mtls" }));
      assert.equal(added.status, 200, await added.text());
      const authz = await app.request(
        "/api/v1/interop/authz",
        {},
        mtls({
          cn,
          dn: `CN=${cn}`,
          serial: "2",
          via: "mtls",
        }),
      );
      assert.equal(authz.status, 200);
      const creds = await authz.json();
      const who = await whoamiDevice(hs.http.as(creds.token));
      assert.ok(who.kind === "valid" && who.deviceId !== null, "the token is bound to a device");

      const alice = await person(hs);
      assert.equal(await adminJoin(admin, ready.rooms.space, alice.userId), "joined");
      assert.equal(await adminJoin(admin, ready.rooms.general, alice.userId), "joined");
      const text = `contact at grid ${crypto.randomUUID().slice(0, 8)}`;
      const out = await new Deno.Command("node", {
        args: [`${CLIENT}/decrypt.mjs`],
        env: {
          HS_URL: hs.url,
          ROOM_ID: ready.rooms.general,
          TEXT: text,
          PERSON_TOKEN: alice.accessToken,
          PERSON_USER: alice.userId,
          PERSON_DEVICE: alice.deviceId!,
          BOT_TOKEN: creds.token,
          BOT_USER: creds.username,
          BOT_DEVICE: who.deviceId,
          DEADLINE_MS: "60000",
        },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stdout = new TextDecoder().decode(out.stdout);
      const stderr = new TextDecoder().decode(out.stderr);
      assert.ok(out.success, `the client failed:\n${stderr.slice(-3000)}`);
      // The library logs to stdout as well; the script's one answer is the RESULT line.
      const result = stdout.split("\n").find((line) => line.startsWith("RESULT "));
      assert.ok(result, `no RESULT line in:\n${stdout.slice(-2000)}`);
      const seen = JSON.parse(result.slice("RESULT ".length));
      assert.equal(seen.encrypted, true, "the message travelled encrypted");
      assert.deepEqual(seen.decrypted, { body: text, encrypted: true });
      // And on the server it is ciphertext: the plain text was never sent to Synapse.
      const stored = await admin.call({
        method: "GET",
        path: `/_synapse/admin/v1/rooms/${enc(ready.rooms.general)}/messages`,
        searchParams: { dir: "b", limit: "20" },
        schema: z.object({
          chunk: z.array(z.object({ event_id: z.string(), type: z.string() }).loose()),
        }),
      });
      const event = stored.chunk.find((e) => e.event_id === seen.eventId);
      assert.equal(event?.type, "m.room.encrypted");
      assert.doesNotMatch(JSON.stringify(stored.chunk), new RegExp(text));
    } finally {
      abort.abort();
      await running;
    }
  },
);
