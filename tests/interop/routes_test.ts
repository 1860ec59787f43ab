import assert from "node:assert/strict";
import { createApp } from "../../src/http/app.ts";
import { createUnavailableLifecycle } from "../../src/lifecycle/lifecycle.ts";
import { createMemoryLogger } from "../../src/log/logger.ts";
import { createInterop, type Interop } from "../../src/interop/interop.ts";
import { createInteropStore } from "../../src/store/interop.ts";
import { createSynapseHttp } from "../../src/synapse/http.ts";
import { refusedInteropCns } from "../../src/service/interop.ts";
import type { AppBindings } from "../../src/transport/bindings.ts";
import { createTestPki } from "../../tools/dev/pki.ts";
import { mtls, PERSON, plain, RM, TEST_SNAPSHOT, testApp } from "../support/app.ts";
import { testConfig } from "../support/config.ts";

const BL = "battlelog.golden-monkey.dev.example.fi";
const pki = await createTestPki("interop routes test");
const blCert = await pki.issueLeaf({ cn: BL, kind: "client" });
const BATTLELOG = mtls({ cn: BL, dn: `CN=${BL}`, serial: "3b", via: "mtls" });

async function interopApp(kv: Deno.Kv, interop?: Interop) {
  const config = await testConfig();
  const log = createMemoryLogger();
  const real = createInterop({
    store: createInteropStore(kv),
    http: createSynapseHttp({ baseUrl: "http://127.0.0.1:9" }),
    admin: {
      call: () => Promise.reject(new Error("no Synapse here")),
      current: () => null,
      whenReady: () => Promise.resolve(null),
    },
    caPems: () => Promise.resolve([pki.chainPem]),
    refusedCns: refusedInteropCns(config),
    registrationSecret: "s",
    ingestBotUsername: config.synapse.ingestBotUsername,
    serverName: config.serverName,
    log,
  });
  const app = createApp({
    config,
    lifecycle: createUnavailableLifecycle(),
    interop: interop ?? real,
    health: () => ({ healthy: true, extra: "test" }),
    status: () => TEST_SNAPSHOT,
    metrics: () => Promise.resolve(""),
    reconcile: () => Promise.resolve(null),
    log,
  });
  const add = (body: unknown, env: AppBindings, path = "/api/v1/interop/add", headers = {}) =>
    app.request(path, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    }, env);
  const authz = (env: AppBindings) => app.request("/api/v1/interop/authz", {}, env);
  return { app, log, add, authz, interop: interop ?? real };
}

const escaped = blCert.certPem.replaceAll("\n", "\\n");

Deno.test("interop/add as RM grants once, repeats idempotently, and accepts RM's double slash", async () => {
  await using kv = await Deno.openKv(":memory:");
  const t = await interopApp(kv);
  const first = await t.add({ certcn: BL, x509cert: escaped }, mtls(RM));
  assert.equal(first.status, 200);
  assert.deepEqual(await first.json(), { success: true, extra: `granted: ${BL}`, error: null });
  const again = await t.add(
    { certcn: BL, x509cert: blCert.certPem },
    mtls(RM),
    "//api/v1/interop/add",
  );
  assert.equal(again.status, 200);
  assert.equal((await again.json()).extra, `granted before: ${BL}`);
  const grants = await t.interop.list();
  assert.equal(grants.length, 1);
  assert.equal(grants[0]!.grantedBy, "rasenmaeher");
  assert.match(t.log.lines.join("\n"), /granted interop/);
});

Deno.test("interop/add refuses everyone but RM, RM's proxy, bad bodies and reserved CNs", async () => {
  await using kv = await Deno.openKv(":memory:");
  const t = await interopApp(kv);
  const body = { certcn: BL, x509cert: escaped };
  assert.equal((await t.add(body, mtls(PERSON))).status, 403);
  assert.equal((await t.add(body, BATTLELOG)).status, 403);
  assert.equal((await t.add(body, plain())).status, 403);
  assert.equal((await t.add(body, mtls(PERSON), "//api/v1/interop/add")).status, 403);
  const proxied = await t.add(body, mtls(RM), "/api/v1/interop/add", {
    "x-rasenmaeher-proxy": "productproxy",
  });
  assert.equal(proxied.status, 403);
  assert.equal((await t.add({ ...body, extra: 1 }, mtls(RM))).status, 422);
  assert.equal((await t.add({ ...body, extra: 1 }, mtls(RM), "//api/v1/interop/add")).status, 422);
  const other = await t.add({ certcn: "other.example.fi", x509cert: escaped }, mtls(RM));
  assert.equal(other.status, 422);
  const rm = await pki.issueLeaf({ cn: "rasenmaeher", kind: "client" });
  assert.equal(
    (await t.add({ certcn: "rasenmaeher", x509cert: rm.certPem }, mtls(RM))).status,
    422,
  );
  assert.deepEqual(await t.interop.list(), []);
});

Deno.test("interop/authz: 403 without a grant, 503 with Retry-After until the ingest bot exists", async () => {
  await using kv = await Deno.openKv(":memory:");
  const t = await interopApp(kv);
  const before = await t.authz(BATTLELOG);
  assert.equal(before.status, 403);
  const hint = await before.text();
  assert.equal((await t.authz(mtls(PERSON))).status, 403);
  assert.equal(await (await t.authz(mtls(PERSON))).text(), hint, "no hint which CN exists");
  assert.equal((await t.authz(plain())).status, 403);
  assert.equal((await t.add({ certcn: BL, x509cert: escaped }, mtls(RM))).status, 200);
  const waiting = await t.authz(BATTLELOG);
  assert.equal(waiting.status, 503);
  assert.equal(waiting.headers.get("retry-after"), "10");
  assert.equal((await t.authz(mtls(RM))).status, 403);
  assert.equal(await t.interop.revoke(BL), true);
  assert.equal((await t.authz(BATTLELOG)).status, 403);
  assert.equal(await t.interop.revoke(BL), false);
});

Deno.test("interop/authz answers exactly the shared ProductAuthzResponse fields", async () => {
  await using kv = await Deno.openKv(":memory:");
  const fake: Interop = {
    grant: () => Promise.reject(new Error("unused")),
    authz: (cn) =>
      Promise.resolve(
        cn === BL
          ? { kind: "granted", token: "syt_x", userId: "@battlelog-bot:example.fi" }
          : { kind: "forbidden" },
      ),
    revoke: () => Promise.resolve(false),
    list: () => Promise.resolve([]),
    status: () => Promise.reject(new Error("unused")),
    run: () => Promise.resolve(),
  };
  const t = await interopApp(kv, fake);
  const res = await t.authz(BATTLELOG);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  assert.deepEqual(await res.json(), {
    type: "bearer-token",
    token: "syt_x",
    username: "@battlelog-bot:example.fi",
    password: null,
    ro_password: null,
  });
  assert.doesNotMatch(t.log.lines.join("\n"), /syt_x/);
});

Deno.test("a lifecycle callback whose callsign maps to the ingest bot is refused with 409", async () => {
  const t = await testApp();
  const res = await t.postJson("/api/v1/users/created", {
    uuid: "u1",
    callsign: "BATTLELOG-BOT",
    x509cert: "x",
  }, mtls(RM));
  assert.equal(res.status, 409);
  assert.match((await res.json()).error, /interop ingest bot/);
  assert.equal(t.submitted.length, 0);
});

Deno.test("the OpenAPI document lists both interop routes", async () => {
  await using kv = await Deno.openKv(":memory:");
  const t = await interopApp(kv);
  const doc = await (await t.app.request("/api/openapi.json")).json();
  assert.ok(doc.paths["/api/v1/interop/add"]?.post);
  assert.ok(doc.paths["/api/v1/interop/authz"]?.get);
  assert.ok(doc.components.schemas.ProductAuthzResponse);
});
