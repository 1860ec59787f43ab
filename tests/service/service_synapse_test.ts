import assert from "node:assert/strict";
import { parseConfig, readTextOrNull } from "../../src/config/config.ts";
import { createMemoryLogger } from "../../src/log/logger.ts";
import { createService } from "../../src/service/service.ts";
import { randomPassword, registerWithSharedSecret } from "../../src/synapse/registration.ts";
import { joinedRooms } from "../../src/synapse/membership.ts";
import { whoami } from "../../src/synapse/users.ts";
import { createStore } from "../../src/store/store.ts";
import { crud, mtls, plain, RM } from "../support/app.ts";
import { freePort } from "../support/process.ts";
import { synapseTest, type TestHomeserver, uniqueName } from "../support/synapse.ts";
import { waitFor } from "../support/wait.ts";

/** The service built in-process on the real Synapse, with its own deployment, bot and KV. */
async function inProcess(hs: TestHomeserver, dir: string) {
  const manifest = `${dir}/manifest.json`;
  await Deno.writeTextFile(
    manifest,
    JSON.stringify({
      deployment: uniqueName("inproc"),
      rasenmaeher: { certcn: "rasenmaeher" },
      product: { dns: `matrix.${hs.serverName}` },
    }),
  );
  const parsed = await parseConfig({
    SYNAPSE_URL: hs.url,
    SYNAPSE_REGISTRATION_SECRET: hs.secret,
    SERVER_DOMAIN: hs.serverName,
    SYNAPSE_BOT_USERNAME: uniqueName("inprocbot"),
    KRAFTWERK_MANIFEST: manifest,
    PERSISTENT_DATA_PATH: dir,
    MTLS_ENABLED: "false",
    BIND_HOST: "127.0.0.1",
    HTTP_PORT: String(freePort()),
  }, readTextOrNull);
  if (!parsed.ok) throw new Error(parsed.problems.join("; "));
  const kv = await Deno.openKv(":memory:");
  const log = createMemoryLogger();
  return {
    config: parsed.config,
    kv,
    log,
    service: createService({ config: parsed.config, kv, log }),
  };
}

synapseTest(
  "createService() runs the whole service in-process: bootstrap, a callback applied, status, stop",
  async (hs) => {
    const dir = await Deno.makeTempDir({ prefix: "inproc-" });
    const { config, kv, log, service } = await inProcess(hs, dir);
    let botToken: string | undefined;
    try {
      await service.start();
      const status = async () =>
        await (await service.app.request("/api/v1/status", {}, plain("127.0.0.1"))).json();
      await waitFor("the bootstrap", async () => (await status()).bootstrap.phase === "ready", {
        timeoutMs: 60_000,
      });
      const tasks = (await status()).tasks as Array<{ name: string; state: string }>;
      assert.deepEqual(
        tasks.map((t) => `${t.name}:${t.state}`),
        [
          "certificate:running",
          "oidc_client:running",
          "bootstrap:running",
          "worker:running",
          "interop:running",
        ],
      );
      // The plain listener answers like the app does.
      const health = await fetch(`http://127.0.0.1:${config.http.port}/api/v1/healthcheck`);
      assert.equal((await health.json()).healthy, true);

      const callsign = uniqueName("inp");
      const answer = await service.app.request("/api/v1/users/created", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(crud(callsign)),
      }, mtls(RM));
      assert.equal(answer.status, 200);
      const userId = `@${callsign.toLowerCase()}:${hs.serverName}`;
      const registered = await registerWithSharedSecret(hs.http, hs.secret, {
        username: callsign.toLowerCase(),
        password: randomPassword(),
        admin: false,
      });
      assert.equal(registered.kind, "registered");
      // The bot's token, as the bootstrap keeps it in KV.
      botToken = (await createStore(kv).getBotToken())!.accessToken;
      const asBot = hs.http.as(botToken);
      await waitFor(
        "the person's joins",
        async () => (await joinedRooms(asBot, userId)).length === 4,
        { timeoutMs: 30_000 },
      );
    } finally {
      await service.stop();
      kv.close();
      await Deno.remove(dir, { recursive: true });
    }
    assert.equal(
      (await whoami(hs.http.as(botToken!))).kind,
      "valid",
      "stop() keeps the bot's token",
    );
    assert.doesNotMatch(log.lines.join("\n"), new RegExp(hs.secret));
    const after = await fetch(`http://127.0.0.1:${config.http.port}/`).catch((e) => e);
    assert.ok(after instanceof TypeError, "the plain listener is closed after stop()");
  },
);
