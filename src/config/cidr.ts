/**
 * @module CIDR blocks for the trusted-proxy list: parsing and matching of IPv4 and IPv6
 * addresses (IPv4-mapped IPv6 peers match IPv4 blocks).
 */

export interface CidrBlock {
  readonly text: string;
  readonly bits: readonly number[];
  readonly prefix: number;
}

export type CidrListResult =
  | { readonly ok: true; readonly blocks: readonly CidrBlock[] }
  | { readonly ok: false; readonly error: string };

/** Parses a comma- or space-separated list such as `10.0.0.0/8, ::1/128, 172.20.0.5`. */
export function parseCidrList(text: string): CidrListResult {
  const blocks: CidrBlock[] = [];
  for (const item of text.split(/[\s,]+/).filter((s) => s.length > 0)) {
    const block = parseCidr(item);
    if (block === null) return { ok: false, error: `cannot parse ${JSON.stringify(item)} as CIDR` };
    blocks.push(block);
  }
  return { ok: true, blocks };
}

/** Parses one `address[/prefix]`; `null` when it is not one. */
export function parseCidr(text: string): CidrBlock | null {
  const [addr, prefixText, ...rest] = text.split("/");
  if (addr === undefined || rest.length > 0) return null;
  const bits = addressBits(addr);
  if (bits === null) return null;
  const prefix = prefixText === undefined ? bits.length : Number(prefixText);
  if (!/^\d+$/.test(prefixText ?? String(prefix)) || prefix > bits.length) return null;
  return { text, bits, prefix };
}

/** True when `address` (as a socket reports it) lies in one of `blocks`. */
export function addressInBlocks(address: string, blocks: readonly CidrBlock[]): boolean {
  const bits = addressBits(address);
  if (bits === null) return false;
  return blocks.some((b) => {
    const candidate = bits.length === b.bits.length ? bits : _unmapIpv4(bits, b.bits.length);
    if (candidate === null) return false;
    for (let i = 0; i < b.prefix; i++) if (candidate[i] !== b.bits[i]) return false;
    return true;
  });
}

/** The address as an array of bits (32 for IPv4, 128 for IPv6); `null` if unparsable. */
export function addressBits(address: string): number[] | null {
  const bare = address.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  const bytes = bare.includes(":") ? _ipv6Bytes(bare) : _ipv4Bytes(bare);
  if (bytes === null) return null;
  return bytes.flatMap((byte) => Array.from({ length: 8 }, (_, i) => (byte >> (7 - i)) & 1));
}

function _ipv4Bytes(text: string): number[] | null {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) {
    return null;
  }
  return parts.map(Number);
}

function _ipv6Bytes(text: string): number[] | null {
  let head = text;
  let tail4: number[] = [];
  const lastColon = text.lastIndexOf(":");
  if (text.slice(lastColon + 1).includes(".")) {
    const v4 = _ipv4Bytes(text.slice(lastColon + 1));
    if (v4 === null) return null;
    tail4 = v4;
    head = text.slice(0, lastColon + 1) + "0:0";
  }
  const halves = head.split("::");
  if (halves.length > 2) return null;
  const groups = (s: string | undefined) => (s === undefined || s === "" ? [] : s.split(":"));
  const left = groups(halves[0]);
  const right = groups(halves[1]);
  const missing = 8 - left.length - right.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const all = [...left, ...Array(halves.length === 2 ? missing : 0).fill("0"), ...right];
  if (!all.every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return null;
  const bytes = all.flatMap((g) => {
    const n = parseInt(g, 16);
    return [n >> 8, n & 0xff];
  });
  if (tail4.length === 4) bytes.splice(12, 4, ...tail4);
  return bytes;
}

// `::ffff:10.1.2.3` (how a dual-stack socket reports an IPv4 peer) compared with an IPv4 block.
function _unmapIpv4(bits: number[], want: number): number[] | null {
  if (bits.length !== 128 || want !== 32) return null;
  const prefix = bits.slice(0, 96);
  const mapped = prefix.slice(0, 80).every((b) => b === 0) &&
    prefix.slice(80).every((b) => b === 1);
  return mapped ? bits.slice(96) : null;
}
