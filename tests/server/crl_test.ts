/** @module The CRL guard against files written the ecosystem's way, and against broken ones. */
import assert from "node:assert/strict";
import { createMemoryLogger } from "../../src/log/logger.ts";
import { createCrlGuard, type CrlGuard, splitCrls } from "../../src/server/crl.ts";
import { normaliseSerial } from "../../src/x509/serial.ts";
import { X509Certificate } from "../../src/x509/x509.ts";
import { createTestPki, randomSerialHex, type TestPki } from "../../tools/dev/pki.ts";
import { waitFor } from "../support/wait.ts";

interface Setup {
  readonly pki: TestPki;
  readonly path: string;
  readonly root: string;
  readonly intermediate: string;
  readonly log: ReturnType<typeof createMemoryLogger>;
  guard(options?: { pollMs?: number; now?: () => Date }): Promise<CrlGuard>;
  /** Root's CRL then the intermediate's, in one PEM file. */
  write(byIntermediate: readonly string[], byRoot?: readonly string[]): Promise<void>;
  messages(level: string): string[];
}

function crlTest(name: string, body: (s: Setup) => Promise<void>): void {
  Deno.test(name, async () => {
    const pki = await createTestPki();
    const dir = await Deno.makeTempDir({ prefix: "crl-test-" });
    const log = createMemoryLogger();
    const guards: CrlGuard[] = [];
    const path = `${dir}/crl.pem`;
    const s: Setup = {
      pki,
      path,
      root: new X509Certificate(pki.rootPem).subject,
      intermediate: new X509Certificate(pki.intermediatePem).subject,
      log,
      async guard(options = {}) {
        const caPems = [pki.intermediatePem, pki.rootPem];
        const guard = await createCrlGuard({ path, caPems, log, pollMs: 60_000, ...options });
        guards.push(guard);
        return guard;
      },
      async write(byIntermediate, byRoot = []) {
        await Deno.writeTextFile(
          path,
          (await pki.issueCrl({ issuer: "root", revokedSerials: byRoot })) +
            (await pki.issueCrl({ issuer: "intermediate", revokedSerials: byIntermediate })),
        );
      },
      messages: (level) =>
        log.lines.map((l) => JSON.parse(l)).filter((l) => l["log.level"] === level).map((l) =>
          l.message
        ),
    };
    try {
      await body(s);
    } finally {
      for (const guard of guards) await guard.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("normaliseSerial() spells node's and @peculiar/x509's serials the same", () => {
  assert.equal(normaliseSerial("ABCDEF012345678"), normaliseSerial("0abcdef012345678"));
  assert.equal(normaliseSerial("8A:BC"), "8abc");
  assert.equal(normaliseSerial("000"), "0");
});

crlTest(
  "CRL guard reads both CRLs of a two-CRL PEM file and scopes each to its issuer",
  async (s) => {
    await s.write(["0abc", "1234"], ["77"]);
    const guard = await s.guard();
    assert.equal(guard.isRevoked("ABC", s.intermediate), true);
    assert.equal(guard.isRevoked("1234", s.intermediate), true);
    assert.equal(guard.isRevoked("1235", s.intermediate), false);
    assert.equal(guard.isRevoked("77", s.intermediate), false, "77 is the root's, not ours");
    assert.equal(guard.isRevoked("77", s.root), true);
    assert.equal(guard.isRevoked("77"), true, "without an issuer, any CRL counts");
    assert.deepEqual(guard.status().map((l) => [l.issuer, l.revoked]), [
      [s.root, 1],
      [s.intermediate, 2],
    ]);
  },
);

crlTest("CRL guard reads the same two CRLs laid end to end as DER (crl.der)", async (s) => {
  const der = (pem: string) => splitCrls(new TextEncoder().encode(pem))[0]!;
  const root = der(await s.pki.issueCrl({ issuer: "root" }));
  const ours = der(await s.pki.issueCrl({ issuer: "intermediate", revokedSerials: ["42"] }));
  await Deno.writeFile(s.path, new Uint8Array([...root, ...ours]));
  const guard = await s.guard();
  assert.equal(guard.isRevoked("42", s.intermediate), true);
  assert.equal(guard.status().length, 2);
});

crlTest("CRL guard matches an odd-digit serial however node or the CRL spells it", async (s) => {
  const serial = randomSerialHex("odd-digits");
  const leaf = await s.pki.issueLeaf({ cn: "ROTTA01a", kind: "client", serialHex: serial });
  await s.write([leaf.serialHex]); // peculiar's byte-padded spelling, `0abc…`
  const guard = await s.guard();
  const nodeSpelling = normaliseSerial(serial).toUpperCase(); // getPeerCertificate(): `ABC…`
  assert.notEqual(nodeSpelling.toLowerCase(), leaf.serialHex);
  assert.equal(guard.isRevoked(nodeSpelling, s.intermediate), true);
  assert.equal(guard.isRevoked(leaf.serialHex, s.intermediate), true);
});

crlTest(
  "CRL guard ignores a CRL signed by the wrong key and keeps the previous list",
  async (s) => {
    await s.write(["42"]);
    const guard = await s.guard();
    // Same issuer name, another key: it would un-revoke 42 if it were believed.
    await Deno.writeTextFile(
      s.path,
      await s.pki.issueCrl({ issuer: "intermediate", signWithForeignKey: true }),
    );
    await guard.refresh();
    assert.equal(guard.isRevoked("42", s.intermediate), true);
    assert.ok(s.messages("error").some((m) => /does not verify against a trusted CA/.test(m)));
  },
);

crlTest("CRL guard ignores a CRL whose issuer it does not trust", async (s) => {
  const other = await createTestPki("someone else");
  await Deno.writeTextFile(
    s.path,
    await other.issueCrl({ issuer: "intermediate", revokedSerials: ["42"] }),
  );
  const guard = await s.guard();
  assert.equal(guard.isRevoked("42"), false);
  assert.deepEqual(guard.status(), []);
  assert.ok(s.messages("error").some((m) => /does not verify against a trusted CA/.test(m)));
});

crlTest("CRL guard refuses a replayed older CRL that would un-revoke a certificate", async (s) => {
  const old = await s.pki.issueCrl({
    issuer: "intermediate",
    thisUpdate: new Date(Date.now() - 3_600_000),
  });
  await s.write(["42"]);
  const guard = await s.guard();
  await Deno.writeTextFile(s.path, old);
  await guard.refresh();
  assert.equal(guard.isRevoked("42", s.intermediate), true);
  assert.ok(s.messages("error").includes("refusing a CRL older than the one in use"));
});

crlTest("CRL guard keeps the last good lists when the file is truncated or deleted", async (s) => {
  await s.write(["42"]);
  const guard = await s.guard();
  await Deno.writeTextFile(s.path, "-----BEGIN X509 CRL-----\nMIIB"); // caught mid-write
  await guard.refresh();
  assert.equal(guard.isRevoked("42", s.intermediate), true);
  assert.ok(s.messages("error").includes("the CRL file holds no CRL; keeping the lists in use"));
  await Deno.remove(s.path);
  await guard.refresh();
  assert.equal(guard.isRevoked("42", s.intermediate), true);
});

crlTest(
  "CRL guard logs an error once a CRL is past its nextUpdate, and keeps enforcing it",
  async (s) => {
    let clock = new Date();
    await s.pki.issueCrl({ issuer: "root" });
    await Deno.writeTextFile(
      s.path,
      await s.pki.issueCrl({
        issuer: "intermediate",
        revokedSerials: ["42"],
        nextUpdate: new Date(clock.getTime() + 60_000),
      }),
    );
    const guard = await s.guard({ now: () => clock });
    assert.deepEqual(s.messages("error"), []);
    clock = new Date(clock.getTime() + 120_000);
    await guard.refresh();
    assert.deepEqual(s.messages("error"), [
      "CRL is past its nextUpdate: the CA has not published a fresh one",
    ]);
    assert.equal(guard.isRevoked("42", s.intermediate), true);
  },
);

crlTest(
  "CRL guard with a missing file revokes nothing, logs an error, and loads the file when it appears",
  async (s) => {
    const guard = await s.guard({ pollMs: 50 }); // the poll itself must find the new file
    assert.equal(guard.isRevoked("42"), false);
    assert.equal(s.messages("error").length, 1);
    await s.write(["42"]);
    await waitFor("the poll to read the new file", () => guard.isRevoked("42", s.intermediate), {
      timeoutMs: 5000,
      intervalMs: 25,
    });
    assert.equal(s.messages("error").length, 1, "the missing file is reported once, not per poll");
  },
);

Deno.test("CRL guard without a configured path revokes nothing and warns", async () => {
  const log = createMemoryLogger();
  const guard = await createCrlGuard({ path: null, caPems: [], log });
  assert.equal(guard.isRevoked("1"), false);
  assert.match(log.lines.join("\n"), /revoked certificates are not refused/);
  await guard.close();
});

Deno.test("splitCrls() drops a truncated trailing DER CRL", async () => {
  const pki = await createTestPki();
  const [der] = splitCrls(new TextEncoder().encode(await pki.issueCrl({ issuer: "root" })));
  const bytes = new Uint8Array([...der!, ...der!.subarray(0, 20)]);
  assert.equal(splitCrls(bytes).length, 1);
});
