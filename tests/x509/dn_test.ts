import assert from "node:assert/strict";
import {
  commonNameOf,
  formatDistinguishedName,
  parseDistinguishedName,
} from "../../src/x509/dn.ts";

const parse = (text: string) => {
  const r = parseDistinguishedName(text);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

Deno.test("parseDistinguishedName() reads nginx's RFC 2253 form, most specific first", () => {
  const rdns = parse("CN=rasenmaeher,O=N/A,L=Helsinki,C=FI");
  assert.equal(commonNameOf(rdns), "rasenmaeher");
  assert.deepEqual(rdns[1], [{ type: "O", value: "N/A" }]);
});

Deno.test("parseDistinguishedName() unescapes specials and hex pairs", () => {
  const rdns = parse(String.raw`CN=Doe\, John \+ co\;\"x\",O=\C3\A4iti\3Dmom,OU=\#hash\ `);
  assert.equal(commonNameOf(rdns), `Doe, John + co;"x"`);
  assert.equal(rdns[1]?.[0]?.value, "äiti=mom");
  assert.equal(rdns[2]?.[0]?.value, "#hash ");
});

Deno.test("parseDistinguishedName() keeps multi-valued RDNs together", () => {
  const rdns = parse("CN=a+UID=b,O=c");
  assert.equal(rdns.length, 2);
  assert.deepEqual(rdns[0], [{ type: "CN", value: "a" }, { type: "UID", value: "b" }]);
});

Deno.test("parseDistinguishedName() accepts the CN by OID and lower-case types", () => {
  assert.equal(commonNameOf(parse("2.5.4.3=oid-cn")), "oid-cn");
  assert.equal(commonNameOf(parse("cn=lower")), "lower");
});

Deno.test("parseDistinguishedName() refuses malformed DNs", () => {
  for (
    const bad of ["", "CN", "CN=a,", "=x", String.raw`CN=bad\q`, "CN=a<b", String.raw`CN=\ff\fe`]
  ) {
    assert.equal(parseDistinguishedName(bad).ok, false, bad);
  }
});

Deno.test("commonNameOf() is null when there is no CN", () => {
  assert.equal(commonNameOf(parse("O=x,C=FI")), null);
});

Deno.test("formatDistinguishedName() escapes so that parsing gives the same values back", () => {
  const rdns = [[{ type: "CN", value: ` lead, "q" + #x\\ ` }], [{ type: "O", value: "#first" }]];
  const text = formatDistinguishedName(rdns);
  assert.deepEqual(parse(text), rdns);
});
