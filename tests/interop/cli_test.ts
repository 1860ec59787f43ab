import assert from "node:assert/strict";
import { parseArgs } from "../../src/cli/args.ts";
import { runInterop } from "../../src/cli/interop.ts";
import { createApp } from "../../src/http/app.ts";
import { createUnavailableLifecycle } from "../../src/lifecycle/lifecycle.ts";
import { createMemoryLogger } from "../../src/log/logger.ts";
import { createInterop } from "../../src/interop/interop.ts";
import { createInteropStore } from "../../src/store/interop.ts";
import { createSynapseHttp } from "../../src/synapse/http.ts";
import { createTestPki } from "../../tools/dev/pki.ts";
import { mtls, RM, TEST_SNAPSHOT } from "../support/app.ts";
import { testConfig } from "../support/config.ts";

Deno.test("parseArgs() reads interop list and interop revoke <certcn> with the remote options", () => {
  assert.deepEqual(parseArgs(["interop", "list"]), {
    ok: true,
    command: {
      name: "interop",
      action: "list",
      certcn: null,
      host: "localhost",
      port: 8012,
      timeoutMs: 2000,
    },
  });
  const revoke = parseArgs(["interop", "revoke", "bl.example.fi", "--port", "9000"]);
  assert.ok(revoke.ok && revoke.command.name === "interop");
  assert.equal(revoke.command.certcn, "bl.example.fi");
  assert.equal(revoke.command.port, 9000);
  assert.equal(parseArgs(["interop"]).ok, false);
  assert.equal(parseArgs(["interop", "revoke"]).ok, false);
  assert.equal(parseArgs(["interop", "drop", "x"]).ok, false);
});

Deno.test("interop list and revoke work from the service's host, and are refused over mTLS", async () => {
  await using kv = await Deno.openKv(":memory:");
  const pki = await createTestPki("interop cli test");
  const cn = "battlelog.golden-monkey.dev.example.fi";
  const leaf = await pki.issueLeaf({ cn, kind: "client" });
  const config = await testConfig();
  const interop = createInterop({
    store: createInteropStore(kv),
    http: createSynapseHttp({ baseUrl: "http://127.0.0.1:9" }),
    admin: {
      call: () => Promise.reject(new Error("unused")),
      current: () => null,
      whenReady: () => Promise.resolve(null),
    },
    caPems: () => Promise.resolve([pki.chainPem]),
    refusedCns: [],
    registrationSecret: "s",
    ingestBotUsername: "battlelog-bot",
    serverName: config.serverName,
    log: createMemoryLogger(),
  });
  assert.equal(
    (await interop.grant({ certcn: cn, x509cert: leaf.certPem, by: "rm" })).kind,
    "granted",
  );
  const app = createApp({
    config,
    lifecycle: createUnavailableLifecycle(),
    interop,
    health: () => ({ healthy: true, extra: null }),
    status: () => TEST_SNAPSHOT,
    metrics: () => Promise.resolve(""),
    reconcile: () => Promise.resolve(null),
    log: createMemoryLogger(),
  });
  const viaMtls = await app.request("/api/v1/interop/grants", {}, mtls(RM));
  assert.equal(viaMtls.status, 403);
  await viaMtls.body?.cancel();
  await using server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    (req, info) =>
      app.fetch(req, { transport: { kind: "plain", remoteAddress: info.remoteAddr.hostname } }),
  );
  const remote = { host: "127.0.0.1", port: server.addr.port, timeoutMs: 5000 };
  const list = await runInterop({ ...remote, action: "list", certcn: null });
  assert.equal(list.code, 0);
  assert.match(list.message, new RegExp(`^${cn.replaceAll(".", "\\.")}  granted .* by rm`));
  assert.deepEqual(await runInterop({ ...remote, action: "revoke", certcn: cn }), {
    code: 0,
    message: `revoked the interop grant of ${cn}`,
  });
  const again = await runInterop({ ...remote, action: "revoke", certcn: cn });
  assert.equal(again.code, 1);
  assert.match(again.message, /HTTP 404: No interop grant/);
  assert.deepEqual(await runInterop({ ...remote, action: "list", certcn: null }), {
    code: 0,
    message: "no interop grants",
  });
});
