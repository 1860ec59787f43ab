/** @module judgeServerUse() against the certificates a deployment hands out. */
import assert from "node:assert/strict";
import { judgeServerUse } from "../../src/server/purpose.ts";
import { createTestPki } from "../../tools/dev/pki.ts";

Deno.test("judgeServerUse() refuses a clientAuth-only leaf, as OpenSSL's ssl_server purpose does", async () => {
  const pki = await createTestPki();
  const client = await pki.issueLeaf({ cn: "matrix.example.test", kind: "client" });
  const verdict = judgeServerUse(client.certPem);
  assert.match(verdict.refusal ?? "", /no serverAuth extended key usage \(it allows clientAuth\)/);
  assert.match(verdict.refusal ?? "", /matrix\.example\.test/);
});

Deno.test("judgeServerUse() accepts a serverAuth leaf and warns only when it names no DNS host", async () => {
  const pki = await createTestPki();
  const named = await pki.issueLeaf({
    cn: "matrix.example.test",
    kind: "server",
    dnsNames: ["matrix.example.test"],
  });
  assert.deepEqual(judgeServerUse(named.certPem), { refusal: null, warning: null });
  const bare = await pki.issueLeaf({ cn: "matrix.example.test", kind: "server" });
  const verdict = judgeServerUse(bare.certPem);
  assert.equal(verdict.refusal, null);
  assert.match(verdict.warning ?? "", /no subjectAltName/);
});

Deno.test("judgeServerUse() throws on a PEM that holds no certificate", () => {
  assert.throws(() =>
    judgeServerUse("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----")
  );
});
