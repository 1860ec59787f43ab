import assert from "node:assert/strict";
import { eventually, startMtlsFixture } from "../support/tls.ts";

Deno.test("mTLS listener admits Rasenmaeher's certificate and passes its identity to the app", async () => {
  const f = await startMtlsFixture();
  try {
    const rm = await f.pki.issueLeaf({ cn: "rasenmaeher", o: "PVARKI", kind: "client" });
    const res = await f.call(rm);
    assert.equal(res.status, 200);
    const transport = await res.json();
    assert.equal(transport.kind, "mtls");
    assert.equal(transport.identity.cn, "rasenmaeher");
    assert.equal(transport.identity.dn, "CN=rasenmaeher,O=PVARKI");
    assert.equal(transport.identity.serial, rm.serialHex.replace(/^0+/, ""));
    assert.equal(transport.identity.via, "mtls");
  } finally {
    await f.close();
  }
});

Deno.test("mTLS listener admits a person's certificate under its own CN", async () => {
  const f = await startMtlsFixture();
  try {
    const res = await f.call(await f.pki.issueLeaf({ cn: "ROTTA01a", kind: "client" }));
    assert.equal((await res.json()).identity.cn, "ROTTA01a");
  } finally {
    await f.close();
  }
});

Deno.test("mTLS listener refuses a client without a certificate in the handshake", async () => {
  const f = await startMtlsFixture();
  try {
    await assert.rejects(() => f.call(null));
  } finally {
    await f.close();
  }
});

Deno.test("mTLS listener refuses a certificate from a foreign CA in the handshake", async () => {
  const f = await startMtlsFixture();
  try {
    const foreign = await f.pki.foreignClient("rasenmaeher");
    await assert.rejects(() => f.call(foreign));
  } finally {
    await f.close();
  }
});

Deno.test("mTLS listener refuses an X.509 v1 client certificate", async () => {
  const f = await startMtlsFixture();
  try {
    const v1 = await f.pki.issueLeaf({ cn: "rasenmaeher", kind: "client", v1: true });
    await assert.rejects(() => f.call(v1));
  } finally {
    await f.close();
  }
});

Deno.test("mTLS listener refuses a client whose serial is on the intermediate CA's CRL", async () => {
  const serial = "0abcdef0123456789"; // odd digit count: node and peculiar spell it differently
  const f = await startMtlsFixture({ revoked: [serial] });
  try {
    const revoked = await f.pki.issueLeaf({ cn: "rasenmaeher", kind: "client", serialHex: serial });
    await assert.rejects(() => f.call(revoked));
    assert.match(f.log.lines.join("\n"), /refused a client certificate.*revoked by the CRL/);
    // Another certificate of the same CA still gets in.
    const other = await f.pki.issueLeaf({ cn: "rasenmaeher", kind: "client" });
    assert.equal((await f.call(other)).status, 200);
  } finally {
    await f.close();
  }
});

Deno.test("mTLS listener refuses a newly revoked certificate once the CRL file is replaced, without a restart", async () => {
  const f = await startMtlsFixture();
  try {
    const person = await f.pki.issueLeaf({ cn: "ROTTA01a", kind: "client" });
    assert.equal((await f.call(person)).status, 200);
    const next = (await f.pki.issueCrl({ issuer: "root" })) +
      (await f.pki.issueCrl({ issuer: "intermediate", revokedSerials: [person.serialHex] }));
    await Deno.writeTextFile(`${f.crlPath}.new`, next);
    await Deno.rename(`${f.crlPath}.new`, f.crlPath); // how CAs publish: write, then rename
    const refused = await eventually(async () => {
      try {
        await f.call(person);
        return false;
      } catch {
        return true;
      }
    });
    assert.ok(refused, "the revoked certificate was still admitted after 5 s");
  } finally {
    await f.close();
  }
});

Deno.test("mTLS listener refuses every certificate of an intermediate CA the root has revoked", async () => {
  const f = await startMtlsFixture();
  try {
    const person = await f.pki.issueLeaf({ cn: "ROTTA01a", kind: "client" });
    const { X509Certificate } = await import("../../src/server/x509.ts");
    const intermediateSerial = new X509Certificate(f.pki.intermediatePem).serialNumber;
    await Deno.writeTextFile(
      f.crlPath,
      (await f.pki.issueCrl({ issuer: "root", revokedSerials: [intermediateSerial] })) +
        (await f.pki.issueCrl({ issuer: "intermediate" })),
    );
    await f.crl.refresh();
    await assert.rejects(() => f.call(person));
  } finally {
    await f.close();
  }
});
