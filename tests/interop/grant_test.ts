import assert from "node:assert/strict";
import { checkGrant, isDnsName, unescapePem } from "../../src/interop/grant.ts";
import { createTestPki } from "../../tools/dev/pki.ts";

const CN = "battlelog.golden-monkey.dev.example.fi";
const pki = await createTestPki("interop grant test");
const caPems = [pki.chainPem];
const leaf = await pki.issueLeaf({ cn: CN, kind: "client" });
const input = (over: Partial<Parameters<typeof checkGrant>[0]> = {}) => ({
  certcn: CN,
  x509cert: leaf.certPem,
  caPems,
  refusedCns: ["rasenmaeher", "matrix.golden-monkey.dev.example.fi"],
  now: new Date(),
  ...over,
});

Deno.test("checkGrant() accepts a product certificate with real or escaped newlines", async () => {
  assert.equal((await checkGrant(input())).ok, true);
  const escaped = leaf.certPem.replaceAll("\n", "\\n");
  assert.equal(unescapePem(escaped), leaf.certPem);
  const r = await checkGrant(input({ x509cert: escaped }));
  assert.equal(r.ok, true);
  if (r.ok) assert.equal(r.serial, leaf.serialHex.replace(/^0+/, ""));
});

Deno.test("checkGrant() refuses a CN that differs from certcn", async () => {
  const other = await pki.issueLeaf({ cn: "other.golden-monkey.dev.example.fi", kind: "client" });
  const r = await checkGrant(input({ x509cert: other.certPem }));
  assert.equal(r.ok, false);
  if (!r.ok) assert.match(r.reason, /the certificate's CN is "other\./);
});

Deno.test("checkGrant() refuses a certificate of another CA with the same names", async () => {
  const foreign = await pki.foreignClient(CN, { sameNames: true });
  const r = await checkGrant(input({ x509cert: foreign.certPem }));
  assert.equal(r.ok, false);
  if (!r.ok) assert.match(r.reason, /does not chain to the trusted CA/);
});

Deno.test("checkGrant() refuses RM's and our own CN, and names that are not DNS names", async () => {
  const rm = await pki.issueLeaf({ cn: "rasenmaeher", kind: "client" });
  const own = await checkGrant(input({ certcn: "rasenmaeher", x509cert: rm.certPem }));
  assert.equal(own.ok, false);
  if (!own.ok) assert.match(own.reason, /this deployment's own identity/);
  const ours = await checkGrant(input({ certcn: "MATRIX.golden-monkey.dev.example.fi" }));
  assert.equal(ours.ok, false);
  for (const bad of ["a b", "-x.example", "x..y", "x_y.example", "", "a".repeat(64)]) {
    assert.equal(isDnsName(bad), false, bad);
    assert.equal((await checkGrant(input({ certcn: bad }))).ok, false, bad);
  }
  assert.equal(isDnsName(CN), true);
});

Deno.test("checkGrant() refuses an unreadable PEM and an expired certificate", async () => {
  const r = await checkGrant(input({ x509cert: "-----BEGIN CERTIFICATE-----\\nAAAA\\n" }));
  assert.equal(r.ok, false);
  const later = await checkGrant(input({ now: new Date(Date.now() + 5 * 365 * 86_400_000) }));
  assert.equal(later.ok, false);
  if (!later.ok) assert.match(later.reason, /not valid now/);
});
