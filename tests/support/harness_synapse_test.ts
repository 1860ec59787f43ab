/** @module The real-Synapse harness: /health, shared-secret registration, rc_* limits, stop. */
import assert from "node:assert/strict";
import {
  ensureSynapseInstalled,
  type Homeserver,
  startHomeserver,
  SynapseUnavailableError,
} from "../../tools/synapse/homeserver.ts";

// Decided once, before any test runs: Deno cannot turn a running test into an ignored one.
const unavailable = await ensureSynapseInstalled().then(() => null, (err) => {
  if (err instanceof SynapseUnavailableError) return err;
  throw err;
});
const inCi = Deno.env.get("CI") === "true";
if (unavailable !== null && !inCi) {
  // deno-lint-ignore no-console
  console.error(
    `\n!!! harness_synapse_test: Synapse is unavailable, so the real-Synapse tests are IGNORED.\n!!! ` +
      `${unavailable.message}\n!!! (With CI=true this fails instead.)\n`,
  );
}

/** A test against a fresh homeserver; its run directory is removed only when the test passes. */
function homeserverTest(name: string, fn: (hs: Homeserver) => Promise<void>): void {
  Deno.test({
    name: unavailable !== null && !inCi ? `${name} (IGNORED: no Synapse)` : name,
    ignore: unavailable !== null && !inCi,
    fn: async () => {
      if (unavailable !== null) throw new Error(`CI=true but ${unavailable.message}`);
      const hs = await startHomeserver();
      try {
        await fn(hs);
      } finally {
        await hs.stop();
      }
      await Deno.remove(hs.dir, { recursive: true });
    },
  });
}

const hex = (bytes: ArrayBuffer) =>
  Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");

async function registerUser(hs: Homeserver, username: string, password: string): Promise<unknown> {
  const endpoint = `${hs.url}/_synapse/admin/v1/register`;
  const nonceRes = await fetch(endpoint);
  assert.equal(nonceRes.status, 200);
  const { nonce } = await nonceRes.json() as { nonce: string };
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(hs.registrationSecret),
    { name: "HMAC", hash: "SHA-1" },
    false,
    ["sign"],
  );
  const signed = [nonce, username, password, "notadmin"].join("\0");
  const mac = hex(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(signed)));
  const res = await fetch(endpoint, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ nonce, username, password, admin: false, mac }),
  });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  return body;
}

homeserverTest(
  "startHomeserver() serves /health, registers a user with the shared secret and stop() ends it",
  async (hs) => {
    const health = await fetch(`${hs.url}/health`);
    assert.equal(health.status, 200);
    assert.equal(await health.text(), "OK");
    assert.equal(await Deno.readTextFile(hs.secretFile), hs.registrationSecret);

    const username = `harness${crypto.randomUUID().slice(0, 8)}`;
    const body = await registerUser(hs, username, crypto.randomUUID());
    assert.equal((body as { user_id?: unknown }).user_id, `@${username}:${hs.serverName}`);

    await hs.stop();
    await hs.stop(); // a second stop is harmless
    assert.equal((await hs.exited).signal, null, "Synapse needed SIGKILL or died on a signal");
    const gone = await Deno.stat(`/proc/${hs.pid}`).then(() => false, () => true);
    assert.ok(gone, `process ${hs.pid} still exists after stop()`);
    await assert.rejects(fetch(`${hs.url}/health`), TypeError, "Synapse still answers");
  },
);

// Synapse ignores rc_* keys it does not know, so a misspelt limiter would silently stay strict.
homeserverTest(
  "startHomeserver() writes only rc_* limits that Synapse actually reads",
  async (hs) => {
    const written = JSON.parse(await Deno.readTextFile(`${hs.dir}/homeserver.yaml`));
    const leaves = (prefix: string, v: unknown): [string, number][] =>
      typeof v === "object" && v !== null && !("per_second" in v)
        ? Object.entries(v).flatMap(([k, x]) => leaves(`${prefix}.${k}`, x))
        : [[prefix, (v as { per_second: number }).per_second]];
    const wanted = Object.entries(written).filter(([k]) => k.startsWith("rc_"))
      .flatMap(([k, v]) => leaves(k, v));
    const script = `
import json, sys
from synapse.config.homeserver import HomeServerConfig
from synapse.config.ratelimiting import RatelimitSettings
c = HomeServerConfig.load_config("", ["-c", sys.argv[1]])
print(json.dumps({s.key: s.per_second for s in vars(c.ratelimiting).values()
                  if isinstance(s, RatelimitSettings)}))`;
    const out = await new Deno.Command(await ensureSynapseInstalled(), {
      args: ["-c", script, `${hs.dir}/homeserver.yaml`],
      cwd: hs.dir,
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    const parsed = JSON.parse(new TextDecoder().decode(out.stdout)) as Record<string, number>;
    assert.ok(wanted.length >= 15, `only ${wanted.length} rc_* limits written`);
    assert.deepEqual(
      wanted.filter(([key, perSecond]) => parsed[key] !== perSecond).map(([key]) => key),
      [],
      `Synapse did not take these limits: parsed ${JSON.stringify(parsed)}`,
    );
  },
);
