/**
 * @module Distinguished names in their RFC 4514 (RFC 2253) string form, as nginx's
 * `$ssl_client_s_dn` and Traefik send them: parsing with every escape, and formatting.
 */

export interface Attribute {
  /** Attribute type as written (`CN`, `O`, `2.5.4.3`), upper-cased when it is a name. */
  readonly type: string;
  readonly value: string;
}
/** One RDN: usually one attribute, several when joined with `+`. */
export type Rdn = readonly Attribute[];

export type DnResult =
  | { readonly ok: true; readonly value: readonly Rdn[] }
  | { readonly ok: false; readonly error: string };

const SPECIAL = new Set([...'"+,;<>\\#= ']);
const HEX2 = /^[0-9a-fA-F]{2}$/;

/** Parses `CN=rasenmaeher,O=Example\, Inc.` into RDNs, most specific first as written. */
export function parseDistinguishedName(text: string): DnResult {
  if (text.length === 0) return { ok: false, error: "empty DN" };
  if (text.length > 4096) return { ok: false, error: "DN longer than 4096 characters" };
  const rdns: Attribute[][] = [];
  let rdn: Attribute[] = [];
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf("=", i);
    if (eq < 0) return { ok: false, error: `missing "=" after ${JSON.stringify(text.slice(i))}` };
    const type = text.slice(i, eq).trim();
    if (!/^([A-Za-z][A-Za-z0-9-]*|\d+(\.\d+)*)$/.test(type)) {
      return { ok: false, error: `bad attribute type ${JSON.stringify(type)}` };
    }
    const parsed = _value(text, eq + 1);
    if (!parsed.ok) return parsed;
    rdn.push({ type: /^\d/.test(type) ? type : type.toUpperCase(), value: parsed.value });
    i = parsed.end;
    const sep = text[i];
    if (sep === "+") {
      i++;
    } else {
      rdns.push(rdn);
      rdn = [];
      if (sep === "," || sep === ";") {
        i++;
        if (i >= text.length) return { ok: false, error: "DN ends with a separator" };
      }
    }
  }
  if (rdn.length > 0) rdns.push(rdn);
  return { ok: true, value: rdns };
}

type ValueResult =
  | { readonly ok: true; readonly value: string; readonly end: number }
  | { readonly ok: false; readonly error: string };

function _value(text: string, start: number): ValueResult {
  if (text[start] === "#") {
    // A BER-encoded value (`#04024869`): kept as written; we never need its decoded form.
    const m = /^#[0-9a-fA-F]*/.exec(text.slice(start));
    const raw = m?.[0] ?? "#";
    if (raw.length < 3 || raw.length % 2 === 0) return { ok: false, error: "bad #hex value" };
    return { ok: true, value: raw, end: start + raw.length };
  }
  const bytes: number[] = [];
  const encoder = new TextEncoder();
  let i = start;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === "," || ch === "+" || ch === ";") break;
    if (ch === "\\") {
      const pair = text.slice(i + 1, i + 3);
      if (HEX2.test(pair)) {
        bytes.push(parseInt(pair, 16));
        i += 3;
        continue;
      }
      const next = text[i + 1];
      if (next === undefined || !SPECIAL.has(next)) {
        return { ok: false, error: `bad escape at position ${i}` };
      }
      bytes.push(...encoder.encode(next));
      i += 2;
      continue;
    }
    if (ch === '"' || ch === "<" || ch === ">") {
      return { ok: false, error: `unescaped ${JSON.stringify(ch)} at position ${i}` };
    }
    const cp = text.codePointAt(i)!;
    const s = String.fromCodePoint(cp);
    bytes.push(...encoder.encode(s));
    i += s.length;
  }
  let value: string;
  try {
    value = new TextDecoder("utf-8", { fatal: true }).decode(new Uint8Array(bytes));
  } catch {
    return { ok: false, error: "escaped bytes are not UTF-8" };
  }
  return { ok: true, value, end: i };
}

/** The first (most specific) CN of a parsed DN, or `null`. */
export function commonNameOf(rdns: readonly Rdn[]): string | null {
  for (const rdn of rdns) {
    for (const attr of rdn) if (attr.type === "CN" || attr.type === "2.5.4.3") return attr.value;
  }
  return null;
}

/** Formats RDNs (most specific first) as an RFC 4514 string, escaping what must be escaped. */
export function formatDistinguishedName(rdns: readonly Rdn[]): string {
  return rdns.map((rdn) => rdn.map((a) => `${a.type}=${escapeDnValue(a.value)}`).join("+"))
    .join(",");
}

/** RFC 4514 §2.4 escaping of one attribute value. */
export function escapeDnValue(value: string): string {
  let out = "";
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    const edge = (i === 0 && (ch === " " || ch === "#")) || (i === value.length - 1 && ch === " ");
    if (ch === "\0") out += "\\00";
    else if (edge || `"+,;<>\\`.includes(ch)) out += "\\" + ch;
    else out += ch;
  }
  return out;
}
