import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/config.ts";
import { TEST_MANIFEST, testConfig } from "../support/config.ts";

const files = (map: Record<string, string>) => (path: string) => Promise.resolve(map[path] ?? null);

Deno.test("parseConfig() applies the ecosystem's defaults", async () => {
  const result = await parseConfig(
    { SYNAPSE_REGISTRATION_SECRET: "s3cret" },
    files({ "/pvarki/kraftwerk-init.json": JSON.stringify(TEST_MANIFEST) }),
  );
  assert.ok(result.ok);
  const c = result.config;
  assert.equal(c.synapse.url, "http://synapse:8008");
  assert.equal(c.synapse.botUsername, "matrixrmapi-bot");
  assert.equal(c.synapse.legacyTokenFile, "/data/persistent/synapse_admin_token");
  assert.equal(c.serverName, "golden-monkey.dev.example.fi");
  assert.equal(c.kvPath, "/data/persistent/matrixrmapi.kv");
  assert.equal(c.clientCertPath, "/data/persistent/public/mtlsclient.pem");
  assert.equal(c.clientKeyPath, "/data/persistent/private/mtlsclient.key");
  assert.equal(c.mtls.port, 4625);
  assert.equal(c.mtls.caPath, "/ca_public");
  assert.equal(c.mtls.caGlob, "*ca*.pem");
  assert.equal(c.mtls.crlPath, null);
  assert.equal(c.http.port, 8012);
  assert.equal(c.bindHost, "0.0.0.0");
  assert.equal(c.proxy.trustHeader, false);
  assert.equal(c.proxy.headerName, "X-ClientCert-DN");
  assert.deepEqual(c.log, { level: "info", format: "ecs" });
  assert.equal(c.manifestFound, true);
  assert.deepEqual(result.warnings, []);
});

Deno.test("parseConfig() lets SERVER_DOMAIN override the manifest's product DNS", async () => {
  const c = await testConfig({ SERVER_DOMAIN: "Chat.Example.ORG" });
  assert.equal(c.serverName, "chat.example.org");
});

Deno.test("parseConfig() puts KV under PERSISTENT_DATA_PATH unless KV_PATH is set", async () => {
  assert.equal(
    (await testConfig({ PERSISTENT_DATA_PATH: "/srv/d" })).kvPath,
    "/srv/d/matrixrmapi.kv",
  );
  assert.equal((await testConfig({ KV_PATH: "/tmp/x.kv" })).kvPath, "/tmp/x.kv");
});

Deno.test("parseConfig() falls back to the development manifest with a warning", async () => {
  const result = await parseConfig({ SYNAPSE_REGISTRATION_SECRET: "s" }, files({}));
  assert.ok(result.ok);
  assert.equal(result.config.manifest.deployment, "manifest_notfound");
  assert.equal(result.config.serverName, "localmaeher.dev.pvarki.fi");
  assert.equal(result.config.manifestFound, false);
  assert.match(result.warnings.join("\n"), /KRAFTWERK_MANIFEST: .* does not exist/);
});

Deno.test("parseConfig() lists every problem by variable name and never echoes the secret", async () => {
  const result = await parseConfig({
    SYNAPSE_REGISTRATION_SECRET: "",
    SYNAPSE_URL: "ftp://x",
    MTLS_PORT: "70000",
    HTTP_PORT: "abc",
    LOG_CONSOLE_FORMATTER: "xml",
    SYNAPSE_BOT_USERNAME: "Bot User",
  }, files({}));
  assert.equal(result.ok, false);
  const text = !result.ok ? result.problems.join("\n") : "";
  for (
    const name of [
      "SYNAPSE_REGISTRATION_SECRET",
      "SYNAPSE_URL",
      "MTLS_PORT",
      "HTTP_PORT",
      "LOG_CONSOLE_FORMATTER",
      "SYNAPSE_BOT_USERNAME",
    ]
  ) {
    assert.match(text, new RegExp(`^${name}: `, "m"), `missing ${name} in:\n${text}`);
  }
  assert.match(text, /MTLS_PORT: .*\(got "70000"\)/);
});

Deno.test("parseConfig() requires the registration secret", async () => {
  const result = await parseConfig({}, files({}));
  assert.equal(result.ok, false);
  assert.match(!result.ok ? result.problems.join("\n") : "", /^SYNAPSE_REGISTRATION_SECRET: /m);
});

Deno.test("parseConfig() does not print a rejected secret", async () => {
  const result = await parseConfig(
    { SYNAPSE_REGISTRATION_SECRET: "hunter2", SYNAPSE_URL: "nope" },
    files({}),
  );
  assert.equal(result.ok, false);
  assert.doesNotMatch(JSON.stringify(result), /hunter2/);
});

Deno.test("parseConfig() reports a malformed manifest field by path", async () => {
  const bad = { ...TEST_MANIFEST, product: { dns: "nodots" } };
  const result = await parseConfig(
    { SYNAPSE_REGISTRATION_SECRET: "s", KRAFTWERK_MANIFEST: "/m.json" },
    files({ "/m.json": JSON.stringify(bad) }),
  );
  assert.equal(result.ok, false);
  assert.match(
    !result.ok ? result.problems.join("\n") : "",
    /KRAFTWERK_MANIFEST: \/m.json: product.dns: /,
  );
});

Deno.test("parseConfig() reports a manifest that is not JSON", async () => {
  const result = await parseConfig(
    { SYNAPSE_REGISTRATION_SECRET: "s", KRAFTWERK_MANIFEST: "/m.json" },
    files({ "/m.json": "{nope" }),
  );
  assert.equal(result.ok, false);
  assert.match(!result.ok ? result.problems.join("\n") : "", /KRAFTWERK_MANIFEST: .* is not JSON/);
});

Deno.test("parseConfig() requires trusted proxies when the proxy header is trusted", async () => {
  const result = await parseConfig(
    { SYNAPSE_REGISTRATION_SECRET: "s", MTLS_TRUST_PROXY_HEADER: "true" },
    files({}),
  );
  assert.equal(result.ok, false);
  assert.match(!result.ok ? result.problems.join("\n") : "", /^MTLS_TRUSTED_PROXIES: /m);
  const bad = await parseConfig(
    { SYNAPSE_REGISTRATION_SECRET: "s", MTLS_TRUSTED_PROXIES: "10.0.0.0/33" },
    files({}),
  );
  assert.match(
    !bad.ok ? bad.problems.join("\n") : "",
    /MTLS_TRUSTED_PROXIES: cannot parse "10.0.0.0\/33"/,
  );
});

Deno.test("parseConfig() maps the ecosystem's log level names", async () => {
  assert.equal((await testConfig({ LOG_LEVEL: "warning" })).log.level, "warn");
  assert.equal((await testConfig({ LOG_LEVEL: "DEBUG" })).log.level, "debug");
});

Deno.test("parseConfig() takes Python's numeric log levels as the Python image's env has them", async () => {
  assert.equal((await testConfig({ LOG_LEVEL: "10" })).log.level, "debug");
  assert.equal((await testConfig({ LOG_LEVEL: "20" })).log.level, "info");
  assert.equal((await testConfig({ LOG_LEVEL: "30" })).log.level, "warn");
  assert.equal((await testConfig({ LOG_LEVEL: "40" })).log.level, "error");
  assert.equal((await testConfig({ LOG_LEVEL: "50" })).log.level, "error");
  const bad = await parseConfig({ SYNAPSE_REGISTRATION_SECRET: "s", LOG_LEVEL: "15" }, files({}));
  assert.match(
    !bad.ok ? bad.problems.join("\n") : "",
    /^LOG_LEVEL: must be DEBUG, .* \(got "15"\)/m,
  );
});

Deno.test("parseConfig() reads reconciliation and health settings, RM's base from the manifest", async () => {
  const c = await testConfig();
  assert.deepEqual(c.reconcile, {
    rmBaseUri: "https://mtls.golden-monkey.dev.example.fi/",
    intervalMs: 600_000,
    dryRun: false,
  });
  assert.equal(c.unhealthyAfterMs, 300_000);
  const custom = await testConfig({
    RECONCILE_INTERVAL_S: "0",
    RECONCILE_DRY_RUN: "true",
    HEALTH_UNHEALTHY_AFTER_S: "60",
  });
  assert.equal(custom.reconcile.intervalMs, 0);
  assert.equal(custom.reconcile.dryRun, true);
  assert.equal(custom.unhealthyAfterMs, 60_000);
  const noRm = await parseConfig(
    { SYNAPSE_REGISTRATION_SECRET: "s" },
    files({
      "/pvarki/kraftwerk-init.json": JSON.stringify({
        ...TEST_MANIFEST,
        rasenmaeher: { certcn: "rasenmaeher" },
      }),
    }),
  );
  assert.equal(noRm.ok && noRm.config.reconcile.rmBaseUri, null);
});

Deno.test("parseConfig() defaults the public homeserver URL to synapse.<domain> on RM's port", async () => {
  assert.equal(
    (await testConfig()).synapse.publicUrl,
    "https://synapse.golden-monkey.dev.example.fi/",
  );
  const dev = await parseConfig({ SYNAPSE_REGISTRATION_SECRET: "s" }, files({}));
  // The ecosystem's local deployment: the URL in the Python original's README.
  assert.equal(
    dev.ok && dev.config.synapse.publicUrl,
    "https://synapse.localmaeher.dev.pvarki.fi:4439/",
  );
  const set = await testConfig({ SYNAPSE_PUBLIC_URL: "https://chat.example.org" });
  assert.equal(set.synapse.publicUrl, "https://chat.example.org/");
});

Deno.test("parseConfig() reads the listener limits, with defaults, and checks them", async () => {
  const { priorityAddresses, ...defaults } = (await testConfig()).limits;
  assert.deepEqual(defaults, {
    headersTimeoutMs: 10_000,
    requestTimeoutMs: 30_000,
    idleTimeoutMs: 30_000,
    maxConnections: 4096,
    maxConnectionsPerAddress: 1024,
    maxHandshakes: 1024,
    maxHandshakesPerAddress: 512,
    handshakeTimeoutMs: 5000,
    maxConnectionsPerIdentity: 64,
  });
  assert.deepEqual(priorityAddresses.map((b) => b.text), ["127.0.0.1/32", "::1/128"]);
  const { priorityAddresses: set, ...given } = (await testConfig({
    HTTP_HEADERS_TIMEOUT_S: "2",
    HTTP_REQUEST_TIMEOUT_S: "5",
    HTTP_IDLE_TIMEOUT_S: "7",
    HTTP_MAX_CONNECTIONS: "16",
    HTTP_MAX_CONNECTIONS_PER_ADDRESS: "8",
    HTTP_MAX_HANDSHAKES: "6",
    HTTP_MAX_HANDSHAKES_PER_ADDRESS: "3",
    HTTP_HANDSHAKE_TIMEOUT_S: "2",
    HTTP_MAX_CONNECTIONS_PER_IDENTITY: "4",
    HTTP_PRIORITY_ADDRESSES: "10.1.2.3",
    MTLS_TRUST_PROXY_HEADER: "true",
    MTLS_TRUSTED_PROXIES: "172.20.0.0/16",
  })).limits;
  assert.deepEqual(given, {
    headersTimeoutMs: 2000,
    requestTimeoutMs: 5000,
    idleTimeoutMs: 7000,
    maxConnections: 16,
    maxConnectionsPerAddress: 8,
    maxHandshakes: 6,
    maxHandshakesPerAddress: 3,
    handshakeTimeoutMs: 2000,
    maxConnectionsPerIdentity: 4,
  });
  // The trusted proxies carry RM's callbacks: they have priority too.
  assert.deepEqual(set.map((b) => b.text), ["10.1.2.3", "172.20.0.0/16"]);
  const bad = await parseConfig({
    SYNAPSE_REGISTRATION_SECRET: "s",
    HTTP_HEADERS_TIMEOUT_S: "0",
    HTTP_IDLE_TIMEOUT_S: "1.5",
    HTTP_MAX_CONNECTIONS: "none",
    HTTP_HANDSHAKE_TIMEOUT_S: "0",
    HTTP_MAX_CONNECTIONS_PER_IDENTITY: "-1",
  }, files({}));
  assert.equal(bad.ok, false);
  const text = !bad.ok ? bad.problems.join("\n") : "";
  for (
    const name of [
      "HTTP_HEADERS_TIMEOUT_S",
      "HTTP_IDLE_TIMEOUT_S",
      "HTTP_MAX_CONNECTIONS",
      "HTTP_HANDSHAKE_TIMEOUT_S",
      "HTTP_MAX_CONNECTIONS_PER_IDENTITY",
    ]
  ) {
    assert.match(text, new RegExp(`^${name}: `, "m"), `missing ${name} in:\n${text}`);
  }
  const badList = await parseConfig({
    SYNAPSE_REGISTRATION_SECRET: "s",
    HTTP_PRIORITY_ADDRESSES: "rm.local",
  }, files({}));
  assert.ok(!badList.ok && /^HTTP_PRIORITY_ADDRESSES: cannot parse/m.test(badList.problems[0]!));
  const inverted = await parseConfig({
    SYNAPSE_REGISTRATION_SECRET: "s",
    HTTP_HEADERS_TIMEOUT_S: "40",
    HTTP_REQUEST_TIMEOUT_S: "30",
  }, files({}));
  assert.ok(
    !inverted.ok && /^HTTP_HEADERS_TIMEOUT_S: must not exceed/m.test(inverted.problems[0]!),
  );
});
