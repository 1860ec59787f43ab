/**
 * Interop through the service as a real process, over real mTLS, against the real Synapse: RM
 * grants at the double-slash URL it builds, BattleLog's certificate gets the ingest bot's token,
 * every other caller is refused, the grant survives a restart and the operator can revoke it.
 */
import assert from "node:assert/strict";
import { startServiceProcess, writeManifest } from "../support/service.ts";
import { serviceEnv, synapseTest, type TestHomeserver, uniqueName } from "../support/synapse.ts";
import { waitFor } from "../support/wait.ts";
import { createTestPki, type Issued, type TestPki } from "../../tools/dev/pki.ts";
import { whoamiDevice } from "../../src/synapse/login.ts";

/** Writes our own PKI in writeDevPki's layout (which then reuses it), plus product certificates. */
async function writePki(dir: string, pki: TestPki, revokedSerial: string): Promise<void> {
  const ca = `${dir}/ca_public`;
  await Deno.mkdir(ca, { recursive: true });
  const leaves: Array<[string, Issued]> = [
    ["server", await pki.issueLeaf({ cn: "localhost", kind: "server", dnsNames: ["localhost"] })],
    ["rasenmaeher", await pki.issueLeaf({ cn: "rasenmaeher", kind: "client" })],
    ["devuser", await pki.issueLeaf({ cn: "DEVUSER1a", kind: "client" })],
  ];
  for (const [name, issued] of leaves) {
    await Deno.writeTextFile(`${dir}/${name}.pem`, issued.certPem);
    await Deno.writeTextFile(`${dir}/${name}.key`, issued.keyPem);
  }
  await Deno.writeTextFile(`${ca}/ca_chain.pem`, pki.chainPem);
  await Deno.writeTextFile(`${ca}/intermediate_ca.pem`, pki.intermediatePem);
  const crls = [
    await pki.issueCrl({ issuer: "root" }),
    await pki.issueCrl({ issuer: "intermediate", revokedSerials: [revokedSerial] }),
  ];
  await Deno.writeTextFile(`${ca}/crl.pem`, crls.join(""));
  await Deno.writeFile(`${ca}/crl.der`, new Uint8Array());
}

async function get(
  port: number,
  chain: string,
  path: string,
  who: Issued | null,
): Promise<{ status: number; text: string; retryAfter: string | null }> {
  const client = Deno.createHttpClient({
    caCerts: [chain],
    ...(who === null ? {} : { cert: who.certPem, key: who.keyPem }),
  });
  try {
    const res = await fetch(`https://localhost:${port}${path}`, { client });
    return {
      status: res.status,
      text: await res.text(),
      retryAfter: res.headers.get("retry-after"),
    };
  } finally {
    client.close();
  }
}

async function start(hs: TestHomeserver, dir: string, manifest: string, ingest: string) {
  return await startServiceProcess({
    dir,
    until: "ready",
    env: {
      ...serviceEnv(hs, { bot: uniqueName("tlsbot"), manifest }),
      BATTLELOG_BOT_USERNAME: ingest,
    },
  });
}

synapseTest(
  "interop over mTLS: RM grants, BattleLog gets the token, everyone else is refused",
  async (hs) => {
    const dir = await Deno.makeTempDir({ prefix: "interop-tls-" });
    const pki = await createTestPki("interop tls test");
    const cn = `battlelog.${hs.serverName}`;
    const battlelog = await pki.issueLeaf({ cn, kind: "client" });
    const revoked = await pki.issueLeaf({ cn, kind: "client" });
    const other = await pki.issueLeaf({ cn: `kartta.${hs.serverName}`, kind: "client" });
    const person = await pki.issueLeaf({ cn: "ROTTA01a", kind: "client" });
    await writePki(`${dir}/pki`, pki, revoked.serialHex);
    const manifest = await writeManifest(
      `${dir}/kraftwerk-init.json`,
      uniqueName("tls"),
      hs.serverName,
    );
    const ingest = uniqueName("ingest");
    const chain = pki.chainPem;
    let svc = await start(hs, dir, manifest, ingest);
    try {
      assert.equal(
        (await get(svc.mtlsPort, chain, "/api/v1/interop/authz", battlelog)).status,
        403,
      );
      const add = await svc.call("rm", "//api/v1/interop/add", {
        certcn: cn,
        x509cert: battlelog.certPem.replaceAll("\n", "\\n"),
      });
      assert.equal(add.status, 200, add.text);
      assert.equal(JSON.parse(add.text).success, true);
      assert.equal(
        (await svc.call("user", "/api/v1/interop/add", { certcn: cn, x509cert: "x" })).status,
        403,
      );

      const granted = await waitFor("the token for BattleLog", async () => {
        const r = await get(svc.mtlsPort, chain, "/api/v1/interop/authz", battlelog);
        if (r.status === 503) assert.equal(r.retryAfter, "10");
        return r.status === 200 ? r : null;
      }, { timeoutMs: 30_000 });
      const creds = JSON.parse(granted.text);
      assert.deepEqual(Object.keys(creds).sort(), [
        "password",
        "ro_password",
        "token",
        "type",
        "username",
      ]);
      assert.equal(creds.type, "bearer-token");
      assert.equal(creds.username, `@${ingest}:${hs.serverName}`);
      const who = await whoamiDevice(hs.http.as(creds.token));
      assert.ok(who.kind === "valid" && who.deviceId !== null);

      for (const refused of [other, person]) {
        assert.equal(
          (await get(svc.mtlsPort, chain, "/api/v1/interop/authz", refused)).status,
          403,
        );
      }
      await assert.rejects(get(svc.mtlsPort, chain, "/api/v1/interop/authz", null));
      await assert.rejects(get(svc.mtlsPort, chain, "/api/v1/interop/authz", revoked));

      const status = await svc.plainGet("/api/v1/status");
      assert.ok(!status.text.includes(creds.token), "the token is never in status");
      const s = JSON.parse(status.text);
      assert.deepEqual(s.interop.grants.map((g: { certcn: string }) => g.certcn), [cn]);
      assert.equal(s.interop.ingest_bot.device_id, who.deviceId);
      const metrics = await svc.plainGet("/metrics");
      assert.match(metrics.text, /matrixrmapi_interop_authz_total\{status="200"\} [1-9]/);
      assert.match(metrics.text, /matrixrmapi_interop_grants 1/);
      await svc.stop();

      // A restart: the grant, the token and the device are the same.
      svc = await start(hs, dir, manifest, ingest);
      const again = await waitFor("the token after a restart", async () => {
        const r = await get(svc.mtlsPort, chain, "/api/v1/interop/authz", battlelog);
        return r.status === 200 ? JSON.parse(r.text) : null;
      }, { timeoutMs: 30_000 });
      assert.equal(again.token, creds.token);

      // The operator revokes (from the service's host); BattleLog is refused from then on.
      const revoke = await fetch(
        `http://127.0.0.1:${svc.httpPort}/api/v1/interop/grants/${encodeURIComponent(cn)}`,
        { method: "DELETE" },
      );
      assert.equal(revoke.status, 200, await revoke.text());
      assert.equal(
        (await get(svc.mtlsPort, chain, "/api/v1/interop/authz", battlelog)).status,
        403,
      );
    } finally {
      await svc.stop().catch(() => {});
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
);
