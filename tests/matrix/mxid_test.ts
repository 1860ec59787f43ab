import assert from "node:assert/strict";
import { callsignToUserId, mapUsernameToLocalpart } from "../../src/matrix/mxid.ts";

// Expected values worked out from Synapse's map_username_to_mxid_localpart (case_sensitive=False)
// after Keycloak's lower-casing; see src/matrix/mxid.ts.
const TABLE: ReadonlyArray<[string, string]> = [
  ["ROTTA01a", "rotta01a"],
  ["kissa-1", "kissa-1"],
  ["a.b/c+d", "a.b/c+d"],
  ["under_score", "under_score"],
  ["_leading", "=5fleading"],
  ["__double", "=5f_double"],
  ["equals=sign", "equals=3dsign"],
  ["with space", "with=20space"],
  ["colon:x", "colon=3ax"],
  ["at@x", "at=40x"],
  ["hash#tag", "hash=23tag"],
  ["Äijä", "=c3=a4ij=c3=a4"],
  ["ÖRKKI", "=c3=b6rkki"],
  ["snow☃", "snow=e2=98=83"],
  ["emoji😀", "emoji=f0=9f=98=80"],
  ["tab\tx", "tab=09x"],
  ["'quote\"", "=27quote=22"],
  ["back\\slash", "back=5cslash"],
  ["UPPER_Lower", "upper_lower"],
];

for (const [callsign, localpart] of TABLE) {
  Deno.test(`mapUsernameToLocalpart() maps ${JSON.stringify(callsign)} to "${localpart}"`, () => {
    assert.equal(mapUsernameToLocalpart(callsign), localpart);
  });
}

Deno.test("callsignToUserId() builds @localpart:server", () => {
  assert.deepEqual(callsignToUserId("ROTTA01a", "example.org"), {
    ok: true,
    localpart: "rotta01a",
    userId: "@rotta01a:example.org",
  });
});

Deno.test("callsignToUserId() refuses an empty callsign with a reason", () => {
  const result = callsignToUserId("", "example.org");
  assert.equal(result.ok, false);
  assert.match(!result.ok ? result.reason : "", /empty/);
});

Deno.test("callsignToUserId() refuses surrounding whitespace, which Keycloak would not keep", () => {
  const result = callsignToUserId(" ROTTA ", "example.org");
  assert.equal(result.ok, false);
  assert.match(!result.ok ? result.reason : "", /whitespace/);
});

Deno.test("callsignToUserId() refuses a lone surrogate, which has no UTF-8 form", () => {
  const result = callsignToUserId("bad\uD800", "example.org");
  assert.equal(result.ok, false);
  assert.match(!result.ok ? result.reason : "", /Unicode/);
});

Deno.test("callsignToUserId() refuses an ID over Matrix's 255-byte limit", () => {
  const ok = callsignToUserId("a".repeat(255 - "@:example.org".length), "example.org");
  assert.equal(ok.ok, true);
  const tooLong = callsignToUserId("a".repeat(256 - "@:example.org".length), "example.org");
  assert.equal(tooLong.ok, false);
  assert.match(!tooLong.ok ? tooLong.reason : "", /255/);
  // Escaping triples the size of non-ASCII callsigns, so the limit is checked after mapping.
  assert.equal(callsignToUserId("ä".repeat(40), "example.org").ok, true);
  assert.equal(callsignToUserId("ä".repeat(41), "example.org").ok, false);
});
