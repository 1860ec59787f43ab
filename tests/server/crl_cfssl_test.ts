/**
 * @module The CRL guard against CRLs as the ecosystem publishes them: `cfssl crl` (SHA-256) from
 * CFSSL's database for the root and the intermediate (SHA-512 RSA-4096 CAs), concatenated.
 */
import assert from "node:assert/strict";
import { createMemoryLogger } from "../../src/log/logger.ts";
import { createCrlGuard } from "../../src/server/crl.ts";
import * as x509 from "../../src/x509/x509.ts";
import { cfsslPki, cfsslTest } from "../support/cfssl.ts";

cfsslTest(
  "CFSSL's two concatenated CRLs verify and revoke the person by the intermediate",
  async () => {
    await using pki = await cfsslPki();
    const person = await pki.issueLeaf({ cn: "ROTTA01a", kind: "client" });
    const bystander = await pki.issueLeaf({ cn: "ROTTA02a", kind: "client" });
    await pki.revoke(person.certPem);
    const pem = await pki.crlPem();
    const [rootCrl, ourCrl] = pem.split(/(?=-----BEGIN X509 CRL-----)/).map((b) =>
      new x509.X509Crl(b)
    );
    assert.equal(ourCrl!.signatureAlgorithm.hash.name, "SHA-256");
    const ca = new x509.X509Certificate(pki.intermediatePem);
    assert.deepEqual(ca.signatureAlgorithm, {
      name: "RSASSA-PKCS1-v1_5",
      hash: { name: "SHA-512" },
    });
    // The root's CRL lists every revoked serial of the shared database, the person's too.
    assert.equal(rootCrl!.entries.length, 1);
    const dir = await Deno.makeTempDir({ prefix: "crl-cfssl-" });
    try {
      await Deno.writeTextFile(`${dir}/crl.pem`, pem);
      const guard = await createCrlGuard({
        path: `${dir}/crl.pem`,
        caPems: [pki.intermediatePem, pki.rootPem],
        log: createMemoryLogger(),
        pollMs: 600_000,
      });
      try {
        assert.deepEqual(guard.health(), { configured: true, inForce: 2, problems: [] });
        assert.equal(guard.isRevoked(person.serialHex, ca.subject), true);
        assert.equal(guard.isRevoked(bystander.serialHex, ca.subject), false);
      } finally {
        await guard.close();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
