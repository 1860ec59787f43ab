/**
 * The service as a process on a fresh volume, with a fake RM whose `kctoken` gets real initial
 * access tokens from the real Keycloak: it enrols its certificate, registers Synapse's login
 * client, and a restart registers nothing new.
 */
import assert from "node:assert/strict";
import { keycloakTest } from "../support/keycloak.ts";
import { startFakeRm } from "../support/fake_rm.ts";
import { startFirstRunService } from "../support/first_run.ts";
import { waitFor } from "../support/wait.ts";
import { createTestPki } from "../../tools/dev/pki.ts";

const DNS = "matrix.kc.example.org";
const PUBLIC = "https://synapse.kc.example.org:8443/";

keycloakTest(
  "a fresh deployment registers Synapse's client once, with nothing done by hand",
  async (kc) => {
    const realm = `svc-${crypto.randomUUID().slice(0, 8)}`;
    await kc.admin.createRealm(realm);
    const pki = await createTestPki("matrixrmapi rm");
    await using rm = await startFakeRm(pki);
    rm.productCns = [DNS];
    rm.kcToken = () => kc.admin.initialAccessToken(realm, { count: 1, expiration: 1 });
    const env = { KEYCLOAK_URL: `${kc.url}/`, KCREALM: realm, SYNAPSE_PUBLIC_URL: PUBLIC };
    const first = await startFirstRunService({ rm, pki, dns: DNS, env });
    const path = `${first.dir}/data/oidc/registration.json`;
    let stopped = false;
    try {
      const oidc = await waitFor("registration", async () => {
        const s = await first.status();
        return s.oidc!.phase === "ready" ? s.oidc! : null;
      }, { timeoutMs: 40_000 });
      const file = JSON.parse(await Deno.readTextFile(path));
      assert.equal(oidc.client_id, file.client_id);
      assert.deepEqual(file.redirect_uris, [`${PUBLIC}_synapse/client/oidc/callback`]);
      assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
      const mine = (await kc.admin.listClients(realm)).filter((c) => c.clientId === file.client_id);
      assert.equal(mine.length, 1);
      assert.deepEqual(mine[0]!.redirectUris, [`${PUBLIC}_synapse/client/oidc/callback`]);
      assert.deepEqual(rm.callers.filter((cn) => cn === DNS).length >= 1, true);
      const before = (await kc.admin.listClients(realm)).length;
      // One-second tokens: one that expired on the way is replaced at once, so count, not assume.
      const tokens = rm.calls.kcToken;
      assert.ok(tokens >= 1 && tokens <= 3, `initial access tokens used: ${tokens}`);
      const out = await first.service.stop();
      stopped = true;
      for (const secret of [file.client_secret, file.registration_access_token]) {
        assert.ok(!out.stdout.includes(secret) && !out.stderr.includes(secret), "no secret logged");
      }

      const again = await startFirstRunService({ rm, pki, dns: DNS, env, dir: first.dir });
      try {
        await waitFor(
          "check after restart",
          async () => (await again.status()).oidc!.phase === "ready",
        );
        assert.equal((await kc.admin.listClients(realm)).length, before, "zero new clients");
        assert.equal(rm.calls.kcToken, tokens, "no initial access token after the restart");
        assert.equal(rm.calls.signCsr, 1, "the csr_jwt was spent once");
      } finally {
        await again.service.stop();
      }
    } finally {
      if (!stopped) await first.service.stop();
      await Deno.remove(first.dir, { recursive: true });
    }
  },
);
