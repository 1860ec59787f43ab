import assert from "node:assert/strict";
import { createTestPki } from "../../tools/dev/pki.ts";
import { createCrlGuard } from "../../src/server/crl.ts";
import { X509Certificate } from "../../src/server/x509.ts";
import { createMemoryLogger } from "../../src/log/logger.ts";
import { normaliseSerial } from "../../src/server/serial.ts";

async function setup() {
  const pki = await createTestPki();
  const dir = await Deno.makeTempDir({ prefix: "crl-" });
  const intermediate = new X509Certificate(pki.intermediatePem).subjectName.toString();
  const log = createMemoryLogger();
  const caPems = [pki.intermediatePem, pki.rootPem];
  return { pki, dir, path: `${dir}/crl.pem`, intermediate, log, caPems };
}

Deno.test("normaliseSerial() makes node's and peculiar's spellings equal", () => {
  assert.equal(normaliseSerial("8ABCDEF0123456789"), normaliseSerial("08abcdef0123456789"));
  assert.equal(normaliseSerial("00"), "0");
  assert.equal(normaliseSerial("0A:BC"), "abc");
});

Deno.test("CRL guard reads both CRLs of a concatenated file and answers per issuer", async () => {
  const s = await setup();
  try {
    await Deno.writeTextFile(
      s.path,
      (await s.pki.issueCrl({ issuer: "root", revokedSerials: ["77"] })) +
        (await s.pki.issueCrl({ issuer: "intermediate", revokedSerials: ["0abc", "1234"] })),
    );
    const guard = await createCrlGuard({ path: s.path, caPems: s.caPems, log: s.log });
    try {
      assert.equal(guard.isRevoked("ABC", s.intermediate), true);
      assert.equal(guard.isRevoked("1234", s.intermediate), true);
      assert.equal(guard.isRevoked("1235", s.intermediate), false);
      // Serial 77 is revoked by the root, not by the intermediate.
      assert.equal(guard.isRevoked("77", s.intermediate), false);
    } finally {
      await guard.close();
    }
  } finally {
    await Deno.remove(s.dir, { recursive: true });
  }
});

Deno.test("CRL guard reads DER CRLs laid end to end, like the CA's crl.der", async () => {
  const s = await setup();
  try {
    const der = (pem: string) =>
      Uint8Array.from(atob(pem.replace(/-----[A-Z0-9 ]+-----|\s/g, "")), (c) => c.charCodeAt(0));
    const a = der(await s.pki.issueCrl({ issuer: "root" }));
    const b = der(await s.pki.issueCrl({ issuer: "intermediate", revokedSerials: ["42"] }));
    await Deno.writeFile(s.path, new Uint8Array([...a, ...b]));
    const guard = await createCrlGuard({ path: s.path, caPems: s.caPems, log: s.log });
    assert.equal(guard.isRevoked("42", s.intermediate), true);
    await guard.close();
  } finally {
    await Deno.remove(s.dir, { recursive: true });
  }
});

Deno.test("CRL guard ignores a CRL with a bad signature and keeps the previous list", async () => {
  const s = await setup();
  try {
    await Deno.writeTextFile(
      s.path,
      await s.pki.issueCrl({ issuer: "intermediate", revokedSerials: ["42"] }),
    );
    const guard = await createCrlGuard({
      path: s.path,
      caPems: s.caPems,
      log: s.log,
      pollMs: 60_000,
    });
    try {
      assert.equal(guard.isRevoked("42", s.intermediate), true);
      // A forged CRL that would un-revoke 42 (same issuer name, wrong key).
      await Deno.writeTextFile(
        s.path,
        await s.pki.issueCrl({
          issuer: "intermediate",
          revokedSerials: [],
          signWithForeignKey: true,
        }),
      );
      await guard.refresh();
      assert.equal(guard.isRevoked("42", s.intermediate), true);
      assert.match(s.log.lines.join("\n"), /refusing a CRL that does not verify/);
    } finally {
      await guard.close();
    }
  } finally {
    await Deno.remove(s.dir, { recursive: true });
  }
});

Deno.test("CRL guard logs loudly when a CRL is past its nextUpdate", async () => {
  const s = await setup();
  try {
    await Deno.writeTextFile(
      s.path,
      await s.pki.issueCrl({ issuer: "intermediate", nextUpdate: new Date(Date.now() - 1000) }),
    );
    const guard = await createCrlGuard({ path: s.path, caPems: s.caPems, log: s.log });
    await guard.close();
    const stale = s.log.lines.map((l) => JSON.parse(l)).find((l) =>
      /past its nextUpdate/.test(l.message)
    );
    assert.equal(stale?.["log.level"], "error");
  } finally {
    await Deno.remove(s.dir, { recursive: true });
  }
});

Deno.test("CRL guard with a missing file revokes nothing, logs an error, and loads the file once it appears", async () => {
  const s = await setup();
  try {
    const guard = await createCrlGuard({
      path: s.path,
      caPems: s.caPems,
      log: s.log,
      pollMs: 60_000,
    });
    try {
      assert.equal(guard.isRevoked("42", s.intermediate), false);
      assert.match(s.log.lines.join("\n"), /cannot read the CRL file/);
      await Deno.writeTextFile(
        s.path,
        await s.pki.issueCrl({ issuer: "intermediate", revokedSerials: ["42"] }),
      );
      await guard.refresh();
      assert.equal(guard.isRevoked("42", s.intermediate), true);
    } finally {
      await guard.close();
    }
  } finally {
    await Deno.remove(s.dir, { recursive: true });
  }
});

Deno.test("CRL guard without a configured path revokes nothing and says so", async () => {
  const log = createMemoryLogger();
  const guard = await createCrlGuard({ path: null, caPems: [], log });
  assert.equal(guard.isRevoked("1", "CN=x"), false);
  assert.match(log.lines.join("\n"), /revoked certificates are not refused/);
  await guard.close();
});
