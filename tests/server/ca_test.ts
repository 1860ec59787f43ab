/** @module Loading the trusted CAs the way libpvarki names them: a directory and a glob. */
import assert from "node:assert/strict";
import { globMatches, loadCaCertificates } from "../../src/server/ca.ts";
import { createMemoryLogger } from "../../src/log/logger.ts";
import { createCrlGuard } from "../../src/server/crl.ts";
import { X509Certificate } from "../../src/x509/x509.ts";
import { createTestPki, writeDevPki } from "../../tools/dev/pki.ts";

async function inTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "ca-test-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("globMatches() takes * and ? as wildcards and everything else literally", () => {
  assert.equal(globMatches("*ca*.pem", "ca_chain.pem"), true);
  assert.equal(globMatches("*ca*.pem", "intermediate_ca.pem"), true);
  assert.equal(globMatches("*ca*.pem", "crl.pem"), false);
  assert.equal(globMatches("*ca*.pem", "ca_chain.pem.bak"), false);
  assert.equal(globMatches("ca?.pem", "ca1.pem"), true);
  assert.equal(globMatches("ca?.pem", "ca10.pem"), false);
  assert.equal(globMatches("a.b", "axb"), false, "a dot is a dot");
  assert.equal(globMatches("[ab].pem", "a.pem"), false, "no character classes");
  assert.equal(globMatches("[ab].pem", "[ab].pem"), true);
});

Deno.test("loadCaCertificates() returns every certificate of every matching file, one PEM each", async () => {
  const pki = await createTestPki();
  await inTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/ca_chain.pem`, pki.chainPem); // two certificates
    await Deno.writeTextFile(`${dir}/intermediate_ca.pem`, pki.intermediatePem);
    await Deno.writeTextFile(`${dir}/crl.pem`, await pki.issueCrl({ issuer: "root" }));
    await Deno.mkdir(`${dir}/old_ca.pem`); // a directory whose name matches: not a file
    await Deno.mkdir(`${dir}/sub`);
    await Deno.writeTextFile(`${dir}/sub/other_ca.pem`, pki.rootPem); // no recursion
    const pems = await loadCaCertificates(dir, "*ca*.pem");
    assert.deepEqual(pems, [
      pki.intermediatePem.trim() + "\n",
      pki.rootPem.trim() + "\n",
      pki.intermediatePem.trim() + "\n",
    ]);
  });
});

Deno.test("loadCaCertificates() follows symlinks the way Kubernetes mounts ConfigMaps", async () => {
  const pki = await createTestPki();
  await inTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/..2026_11_25`);
    await Deno.writeTextFile(`${dir}/..2026_11_25/ca_chain.pem`, pki.chainPem);
    await Deno.symlink("..2026_11_25", `${dir}/..data`);
    await Deno.symlink("..data/ca_chain.pem", `${dir}/ca_chain.pem`);
    assert.equal((await loadCaCertificates(dir, "*")).length, 2);
  });
});

Deno.test("loadCaCertificates() names the directory and glob when nothing matches", async () => {
  await inTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/crl.pem`, "");
    await assert.rejects(
      () => loadCaCertificates(dir, "*ca*.pem"),
      { message: `Cannot load CA certificates: no file in "${dir}" matches "*ca*.pem"` },
    );
  });
});

Deno.test("loadCaCertificates() names the file that holds no PEM certificate", async () => {
  await inTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/bad_ca.pem`, "garbage");
    await assert.rejects(
      () => loadCaCertificates(dir, "*ca*.pem"),
      { message: `Cannot load CA certificates: "${dir}/bad_ca.pem" holds no PEM certificate` },
    );
  });
});

Deno.test("loadCaCertificates() names the file whose PEM block is not a certificate", async () => {
  await inTempDir(async (dir) => {
    await Deno.writeTextFile(
      `${dir}/bad_ca.pem`,
      "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n",
    );
    await assert.rejects(
      () => loadCaCertificates(dir, "*ca*.pem"),
      /^Error: Cannot load CA certificates: certificate 1 in ".*\/bad_ca\.pem" does not parse/,
    );
  });
});

Deno.test("loadCaCertificates() names a directory it cannot read", async () => {
  await assert.rejects(
    () => loadCaCertificates("/nonexistent/ca_public", "*ca*.pem"),
    /^Error: Cannot read CA directory "\/nonexistent\/ca_public": /,
  );
});

Deno.test("writeDevPki() writes a ca_public the CA loader and the CRL guard accept, and reuses it", async () => {
  await inTempDir(async (dir) => {
    const paths = await writeDevPki(dir);
    const caPems = await loadCaCertificates(paths.caDir, "*ca*.pem"); // the ecosystem's glob
    assert.equal(caPems.length, 3);
    const crlText = await Deno.readTextFile(paths.crl);
    assert.equal(crlText.match(/-----BEGIN X509 CRL-----/g)?.length, 2);
    const log = createMemoryLogger();
    for (const path of [paths.crl, paths.crlDer]) {
      const guard = await createCrlGuard({ path, caPems, log });
      assert.equal(guard.status().length, 2, `${path}: root's and intermediate's CRL`);
      await guard.close();
    }
    const serial = (path: string) =>
      Deno.readTextFile(path).then((pem) => new X509Certificate(pem).serialNumber);
    assert.match(await serial(paths.rmCert), /^[89a-f]/, "DER needs a leading zero byte");
    assert.match(await serial(paths.userCert), /^0[1-9a-f]/, "an odd number of hex digits");
    assert.equal((await Deno.stat(paths.userKey)).mode! & 0o077, 0, "keys are private");
    const before = await Deno.readTextFile(paths.rmCert);
    await writeDevPki(dir);
    assert.equal(await Deno.readTextFile(paths.rmCert), before);
  });
});
