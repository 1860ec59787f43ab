/**
 * RM's burst, applied: 500 callbacks at once from one address without priority, against the
 * service as a process and the run's real Synapse. Every one is answered; the people who have a
 * Matrix account are joined to the Space and the public rooms, and the others wait for their
 * first login (what "applied" means for them), none lost.
 */
import assert from "node:assert/strict";
import { startServiceProcess, writeManifest } from "../support/service.ts";
import { serviceEnv, synapseTest, testAdmin, uniqueName } from "../support/synapse.ts";
import { callOnce, credentials } from "../support/attack.ts";
import { randomPassword, registerWithSharedSecret } from "../../src/synapse/registration.ts";
import { joinedRooms } from "../../src/synapse/membership.ts";
import { WAITING_FOR_LOGIN } from "../../src/lifecycle/login_watch.ts";
import { waitFor } from "../support/wait.ts";

const BURST = 500;
const WITH_ACCOUNTS = 40;

synapseTest(
  "500 callbacks at once from one address: all answered; people with accounts joined, the rest waiting",
  async (hs) => {
    const dir = await Deno.makeTempDir({ prefix: "burst-" });
    const manifest = `${dir}/kraftwerk-init.json`;
    await writeManifest(manifest, uniqueName("burst"), hs.serverName);
    const prefix = uniqueName("b").toUpperCase();
    const callsigns = Array.from({ length: BURST }, (_, i) => `${prefix}${i}a`);
    // The first few log in to Matrix before the burst (their accounts exist).
    for (const callsign of callsigns.slice(0, WITH_ACCOUNTS)) {
      await registerWithSharedSecret(hs.http, hs.secret, {
        username: callsign.toLowerCase(),
        password: randomPassword(),
        admin: false,
      });
    }
    const s = await startServiceProcess({
      dir,
      until: "ready",
      env: serviceEnv(hs, { bot: uniqueName("burstbot"), manifest }),
    });
    try {
      const rm = await credentials(s.pki.caChain, s.pki.rmCert, s.pki.rmKey);
      const answers = await Promise.all(callsigns.map((callsign) =>
        callOnce({
          port: s.mtlsPort,
          path: "/api/v1/users/created",
          body: {
            uuid: "6f1c1b36-7c1b-4f54-9d86-3f3c2d8e0a11",
            callsign,
            x509cert: "-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n",
          },
          from: "127.0.0.5",
          creds: rm,
        })
      ));
      const failed = answers.filter((a) => a.status !== 200);
      assert.equal(failed.length, 0, `${failed.length} not answered 200: ${failed[0]?.body}`);

      // Applied: only the people who never logged in are left, each waiting for that login.
      let status: { pending: number; users: Array<{ waiting_for: string | null }> } | null = null;
      await waitFor("the people with accounts to be applied", async () => {
        status = JSON.parse((await s.plainGet("/api/v1/status")).text).lifecycle;
        return status!.pending === BURST - WITH_ACCOUNTS &&
          status!.users.every((u) => u.waiting_for === WAITING_FOR_LOGIN);
      }, { timeoutMs: 120_000, intervalMs: 500 }).catch(() => {});
      assert.equal(status!.pending, BURST - WITH_ACCOUNTS, JSON.stringify(status).slice(0, 400));
      const admin = await testAdmin(hs);
      for (const callsign of callsigns.slice(0, WITH_ACCOUNTS)) {
        const userId = `@${callsign.toLowerCase()}:${hs.serverName}`;
        const rooms = await joinedRooms(hs.http.as(admin), userId);
        assert.equal(rooms.length, 4, `${userId} is in the Space and the three public rooms`);
      }
    } finally {
      await s.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
);
