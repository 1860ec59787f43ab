import assert from "node:assert/strict";
import { addressInBlocks, parseCidr, parseCidrList } from "../../src/config/cidr.ts";

const blocks = (text: string) => {
  const r = parseCidrList(text);
  if (!r.ok) throw new Error(r.error);
  return r.blocks;
};

Deno.test("addressInBlocks() matches IPv4 addresses inside a block only", () => {
  const b = blocks("172.20.0.0/16, 10.1.2.3");
  assert.equal(addressInBlocks("172.20.5.9", b), true);
  assert.equal(addressInBlocks("172.21.0.1", b), false);
  assert.equal(addressInBlocks("10.1.2.3", b), true);
  assert.equal(addressInBlocks("10.1.2.4", b), false);
});

Deno.test("addressInBlocks() matches IPv6 and IPv4-mapped IPv6 peers", () => {
  const b = blocks("::1/128 fd00::/8 127.0.0.0/8");
  assert.equal(addressInBlocks("::1", b), true);
  assert.equal(addressInBlocks("fd12:3456::7", b), true);
  assert.equal(addressInBlocks("fe80::1", b), false);
  assert.equal(addressInBlocks("::ffff:127.0.0.1", b), true);
  assert.equal(addressInBlocks("::ffff:128.0.0.1", b), false);
});

Deno.test("addressInBlocks() never matches garbage or an empty list", () => {
  assert.equal(addressInBlocks("not-an-ip", blocks("0.0.0.0/0")), false);
  assert.equal(addressInBlocks("10.0.0.1", blocks("")), false);
});

Deno.test("parseCidr() refuses malformed blocks", () => {
  for (
    const bad of [
      "10.0.0.0/33",
      "10.0.0/8",
      "256.0.0.1",
      "1::2::3",
      "::/129",
      "10.0.0.0/x",
      "a/b/c",
    ]
  ) {
    assert.equal(parseCidr(bad), null, bad);
  }
});
