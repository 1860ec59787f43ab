/**
 * The self-contained proof CI can give without `deno compile`: the bundled service, run with a
 * bare `deno run`, an empty module cache (no downloads allowed) and the production permission
 * set, starts, passes its healthcheck and answers an authenticated call.
 */
import assert from "node:assert/strict";
import { bundle } from "../../tools/bundle.ts";
import { writeDevPki } from "../../tools/dev/pki.ts";
import { freePort, runMain, startMain } from "../support/process.ts";
import { crud } from "../support/app.ts";

Deno.test("the bundled service runs from an empty cache under the production permission set", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bundle-" });
  try {
    const path = await bundle(`${dir}/matrixrmapi.js`);
    const entry = {
      path,
      flags: ["--no-config", "--no-lock", "--cached-only"],
      denoEnv: { DENO_DIR: `${dir}/empty-deno-dir` },
    };
    const pki = await writeDevPki(`${dir}/pki`);
    const httpPort = freePort();
    const mtlsPort = freePort();
    const env = {
      SYNAPSE_URL: "http://127.0.0.1:9",
      SYNAPSE_REGISTRATION_SECRET: "bundle-secret",
      KRAFTWERK_MANIFEST: `${dir}/none.json`,
      PERSISTENT_DATA_PATH: `${dir}/data`,
      MTLS_SERVER_CERT_PATH: pki.serverCert,
      MTLS_SERVER_KEY_PATH: pki.serverKey,
      LOCAL_CA_CERTS_PATH: pki.caDir,
      MTLS_CRL_PATH: pki.crl,
      MTLS_PORT: String(mtlsPort),
      HTTP_PORT: String(httpPort),
      BIND_HOST: "127.0.0.1",
    };
    const version = await runMain(["version"], {}, entry);
    assert.equal(version.code, 0, version.stderr);
    assert.match(version.stdout, /^matrixrmapi \d+\.\d+\.\d+ \(commit /);

    const service = await startMain(env, async () => {
      const res = await fetch(`http://127.0.0.1:${httpPort}/api/v1/healthcheck`);
      await res.body?.cancel();
      return res.ok;
    }, entry);
    try {
      const health = await runMain(
        ["healthcheck", "--host", "127.0.0.1", "--port", String(httpPort)],
        {},
        entry,
      );
      assert.equal(health.code, 0, health.stderr);
      const client = Deno.createHttpClient({
        caCerts: [await Deno.readTextFile(pki.caChain)],
        cert: await Deno.readTextFile(pki.rmCert),
        key: await Deno.readTextFile(pki.rmKey),
      });
      try {
        const res = await fetch(`https://localhost:${mtlsPort}/api/v2/clients/en/info.md`, {
          client,
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(crud("BUNDLE1")),
        });
        assert.equal(res.status, 200);
        assert.match(await res.text(), /@bundle1:/);
      } finally {
        client.close();
      }
      const docs = await fetch(`http://127.0.0.1:${httpPort}/api/docs/swagger-ui-bundle.js`);
      assert.equal(docs.status, 200);
      assert.ok((await docs.text()).length > 100_000, "the docs assets are embedded in the bundle");
    } finally {
      const out = await service.stop();
      assert.equal(out.code, 0, out.stderr);
      assert.doesNotMatch(out.stderr, /NotCapable|PermissionDenied/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
