import assert from "node:assert/strict";
import { freePort, runMain, startMain } from "../support/process.ts";
import { parseArgs } from "../../src/cli/args.ts";
import { runHealthcheck } from "../../src/cli/healthcheck.ts";
import { startPlainListener } from "../../src/server/plain.ts";
import { createMemoryLogger } from "../../src/log/logger.ts";

Deno.test("main.ts exits 2 on invalid configuration, naming each variable and hiding the secret", async () => {
  const out = await runMain(["serve"], {
    SYNAPSE_REGISTRATION_SECRET: "",
    MTLS_PORT: "99999",
    SYNAPSE_URL: "not a url",
  });
  assert.equal(out.code, 2);
  assert.match(out.stderr, /SYNAPSE_REGISTRATION_SECRET: /);
  assert.match(out.stderr, /MTLS_PORT: /);
  assert.match(out.stderr, /SYNAPSE_URL: /);
});

Deno.test("main.ts never prints a registration secret it was given", async () => {
  const out = await runMain(["serve"], {
    SYNAPSE_REGISTRATION_SECRET: "correct-horse-battery",
    HTTP_PORT: "-1",
  });
  assert.equal(out.code, 2);
  assert.doesNotMatch(out.stdout + out.stderr, /correct-horse-battery/);
});

Deno.test("main.ts version and openapi print without any configuration", async () => {
  const version = await runMain(["version"]);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^matrixrmapi \d+\.\d+\.\d+/);
  const openapi = await runMain(["openapi"]);
  assert.equal(openapi.code, 0);
  assert.ok(JSON.parse(openapi.stdout).paths["/api/v1/users/created"]);
});

Deno.test("main.ts refuses an unknown command with usage and exit 64", async () => {
  const out = await runMain(["frobnicate"]);
  assert.equal(out.code, 64);
  assert.match(out.stderr, /Unknown command "frobnicate"/);
  assert.match(out.stderr, /Usage:/);
});

Deno.test("parseArgs() reads healthcheck options in both spellings and refuses bad ones", () => {
  assert.deepEqual(parseArgs(["healthcheck", "--host", "::1", "--port=9000", "--timeout", "0.5"]), {
    ok: true,
    command: { name: "healthcheck", host: "::1", port: 9000, timeoutMs: 500 },
  });
  assert.deepEqual(parseArgs([]), { ok: true, command: { name: "serve" } });
  for (
    const bad of [["healthcheck", "--port", "0"], ["healthcheck", "--timeout"], [
      "healthcheck",
      "-x",
    ]]
  ) {
    assert.equal(parseArgs(bad).ok, false, bad.join(" "));
  }
});

Deno.test("runHealthcheck() is 0 only for HTTP 200 with healthy: true", async () => {
  const answers: Array<[number, unknown]> = [
    [200, { healthy: true, extra: "fine" }],
    [200, { healthy: false, extra: "bootstrap failing" }],
    [503, { healthy: true }],
    [200, "not json"],
  ];
  let next = 0;
  const server = await startPlainListener({
    hostname: "127.0.0.1",
    port: 0,
    log: createMemoryLogger(),
    fetch: () => {
      const [status, body] = answers[next++]!;
      return new Response(typeof body === "string" ? body : JSON.stringify(body), { status });
    },
  });
  try {
    const probe = () => runHealthcheck({ host: "127.0.0.1", port: server.port });
    assert.deepEqual(await probe(), { code: 0, message: "healthy (fine)" });
    assert.deepEqual(await probe(), { code: 1, message: "unhealthy (bootstrap failing)" });
    assert.match((await probe()).message, /HTTP 503/);
    assert.match((await probe()).message, /unexpected body/);
  } finally {
    await server.close();
  }
  const closed = await runHealthcheck({ host: "127.0.0.1", port: server.port, timeoutMs: 500 });
  assert.equal(closed.code, 1);
  assert.match(closed.message, /cannot reach/);
});

Deno.test("the healthcheck command passes against a running service and fails once it stops", async () => {
  const port = freePort();
  const dir = await Deno.makeTempDir();
  const service = await startMain({
    SYNAPSE_REGISTRATION_SECRET: "s",
    HTTP_PORT: String(port),
    MTLS_ENABLED: "false",
    BIND_HOST: "127.0.0.1",
    PERSISTENT_DATA_PATH: dir,
    KRAFTWERK_MANIFEST: `${dir}/none.json`,
  }, async () => {
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/healthcheck`);
    await res.body?.cancel();
    return res.ok;
  });
  try {
    const ok = await runMain(["healthcheck", "--host", "127.0.0.1", "--port", String(port)]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^healthy/);
  } finally {
    const out = await service.stop();
    assert.equal(out.code, 0, out.stderr);
    await Deno.remove(dir, { recursive: true });
  }
  const down = await runMain([
    "healthcheck",
    "--host",
    "127.0.0.1",
    "--port",
    String(port),
    "--timeout",
    "1",
  ]);
  assert.equal(down.code, 1);
});

Deno.test("parseArgs() reads status and reconcile with the shared options", () => {
  assert.deepEqual(parseArgs(["status", "--port", "9000"]), {
    ok: true,
    command: { name: "status", host: "localhost", port: 9000, timeoutMs: 2000 },
  });
  const r = parseArgs(["reconcile", "--dry-run"]);
  assert.ok(r.ok && r.command.name === "reconcile" && r.command.dryRun && r.command.port === 8012);
});

Deno.test("runStatus() prints the phase and pending work, exit 1 while not ready", async () => {
  const { runStatus } = await import("../../src/cli/remote.ts");
  const bodies = [
    { phase: "ready", pending: 0 },
    { phase: "waiting_for_synapse", pending: 2 },
  ];
  let next = 0;
  const server = await startPlainListener({
    hostname: "127.0.0.1",
    port: 0,
    log: createMemoryLogger(),
    fetch: () => {
      const b = bodies[next++]!;
      return Response.json({
        bootstrap: {
          phase: b.phase,
          since: "2026-01-01T00:00:00Z",
          attempt: 1,
          last_error: b.phase === "ready" ? null : "Synapse unreachable",
          bot_user_id: "@bot:x",
          rooms: { space: "!s:x" },
        },
        lifecycle: { pending: b.pending, oldest_pending_age_seconds: null, users: [] },
      });
    },
  });
  try {
    const remote = { host: "127.0.0.1", port: server.port, timeoutMs: 2000 };
    const ready = await runStatus(remote);
    assert.equal(ready.code, 0);
    assert.match(ready.message, /^bootstrap: ready/);
    assert.match(ready.message, /space +!s:x/);
    const waiting = await runStatus(remote);
    assert.equal(waiting.code, 1);
    assert.match(waiting.message, /last error: Synapse unreachable/);
    assert.match(waiting.message, /pending: 2/);
  } finally {
    await server.close();
  }
});
