import assert from "node:assert/strict";
import { globMatches, loadCaCertificates } from "../../src/server/ca.ts";
import { createTestPki } from "../../tools/dev/pki.ts";

Deno.test("globMatches() matches the ecosystem's *ca*.pem and nothing else", () => {
  assert.equal(globMatches("*ca*.pem", "ca_chain.pem"), true);
  assert.equal(globMatches("*ca*.pem", "intermediate_ca.pem"), true);
  assert.equal(globMatches("*ca*.pem", "crl.pem"), false);
  assert.equal(globMatches("*ca*.pem", "ca_chain.pem.bak"), false);
  assert.equal(globMatches("ca?.pem", "ca1.pem"), true);
  assert.equal(globMatches("a.b", "axb"), false);
});

Deno.test("loadCaCertificates() splits every matching file into its certificates", async () => {
  const pki = await createTestPki();
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/ca_chain.pem`, pki.chainPem);
    await Deno.writeTextFile(`${dir}/intermediate_ca.pem`, pki.intermediatePem);
    await Deno.writeTextFile(`${dir}/crl.pem`, "not a certificate");
    const pems = await loadCaCertificates(dir, "*ca*.pem");
    assert.equal(pems.length, 3);
    for (const pem of pems) {
      assert.match(pem, /^-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----\n$/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadCaCertificates() names the directory when nothing matches", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      () => loadCaCertificates(dir, "*ca*.pem"),
      new RegExp(`no file in ${dir} matches`),
    );
    await Deno.writeTextFile(`${dir}/bad_ca.pem`, "garbage");
    await assert.rejects(
      () => loadCaCertificates(dir, "*ca*.pem"),
      /bad_ca\.pem has no PEM certificate/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  await assert.rejects(() => loadCaCertificates(`${dir}/gone`, "*"), /Cannot read CA directory/);
});
