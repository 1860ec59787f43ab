/**
 * @module What a client certificate says about its holder (CN, RFC 4514 DN, serial, issuer) and
 * its chain among our CAs, read once per certificate.
 */
import * as x509 from "../x509/x509.ts";
import { AsnConvert } from "@peculiar/asn1-schema";
import { Certificate, type Name, Version } from "@peculiar/asn1-x509";
import type { PeerIdentity } from "../transport/bindings.ts";
import { escapeDnValue } from "../x509/dn.ts";
import { normaliseSerial } from "../x509/serial.ts";
import type { Buffer } from "node:buffer";

/** A certificate and the issuer (as @peculiar/x509 prints names) whose CRL may list it. */
export interface ChainLink {
  readonly subject: string;
  readonly serial: string;
  readonly issuer: string;
}

/** What a client certificate says about its holder, read from its DER. */
export type PeerReading =
  | {
    readonly ok: true;
    readonly identity: PeerIdentity;
    readonly link: ChainLink;
    readonly authorityKeyId: string | null;
  }
  | { readonly ok: false; readonly reason: string };

// The attribute types RFC 4514 §3 names; any other is written as an OID with a #hex BER value.
const SHORT_NAMES: Readonly<Record<string, string>> = {
  "2.5.4.3": "CN",
  "2.5.4.7": "L",
  "2.5.4.8": "ST",
  "2.5.4.10": "O",
  "2.5.4.11": "OU",
  "2.5.4.6": "C",
  "2.5.4.9": "STREET",
  "0.9.2342.19200300.100.1.25": "DC",
  "0.9.2342.19200300.100.1.1": "UID",
};

/** Reads a client certificate (DER); refuses anything but X.509 v3 and subjects without a CN. */
export function readPeerCertificate(der: Uint8Array): PeerReading {
  let asn: Certificate;
  let cert: x509.X509Certificate;
  try {
    asn = AsnConvert.parse(der, Certificate);
    cert = new x509.X509Certificate(new Uint8Array(der));
  } catch (err) {
    return { ok: false, reason: `unparsable certificate: ${(err as Error).message}` };
  }
  const tbs = asn.tbsCertificate;
  // A v1 certificate has no extensions, hence no key usage or CA constraint that could say it
  // is not meant for this; TLS stacks refuse it today, this keeps it so if one ever does not.
  if (tbs.version !== Version.v3) {
    return { ok: false, reason: `X.509 v${tbs.version + 1} certificate` };
  }
  const rdns = [...tbs.subject].reverse(); // DER stores the most general RDN first
  const cn = rdns.flat().find((a) => a.type === "2.5.4.3" && !a.value.anyValue)?.value.toString();
  if (cn === undefined || cn === "") return { ok: false, reason: "no CN in the subject" };
  const serial = normaliseSerial(cert.serialNumber);
  return {
    ok: true,
    identity: { cn, dn: formatDn(tbs.subject), serial, via: "mtls" },
    link: { subject: cert.subjectName.toString(), serial, issuer: cert.issuerName.toString() },
    authorityKeyId: cert.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId ?? null,
  };
}

/** A subject or issuer as RFC 4514 writes it: most specific RDN first, values escaped. */
export function formatDn(name: Name): string {
  return [...name].reverse().map((rdn) =>
    [...rdn].map((atv) => { // spread: AsnArray's constructor breaks Array#map
      const short = SHORT_NAMES[atv.type];
      if (short !== undefined && !atv.value.anyValue) {
        return `${short}=${escapeDnValue(atv.value.toString())}`;
      }
      const ber = new Uint8Array(AsnConvert.serialize(atv.value));
      return `${atv.type}=#${Array.from(ber, (b) => b.toString(16).padStart(2, "0")).join("")}`;
    }).join("+")
  ).join(",");
}

const MAX_CHAIN = 8;
/** Client certificates whose reading is kept (RM's, the proxies', people's most recent). */
const PEER_CACHE_SIZE = 256;

export interface TrustedCa extends ChainLink {
  readonly keyId: string | null;
  readonly authorityKeyId: string | null;
}

export function trustedCa(pem: string): TrustedCa {
  const cert = new x509.X509Certificate(pem);
  return {
    subject: cert.subjectName.toString(),
    issuer: cert.issuerName.toString(),
    serial: normaliseSerial(cert.serialNumber),
    keyId: cert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId ?? null,
    authorityKeyId: cert.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId ?? null,
  };
}

/**
 * The leaf and the trusted CAs above it, up to (not including) the self-signed root. Built from
 * our own CA list, not from what the client sent, so a client cannot swap in an unrevoked twin.
 */
export function chainOf(leaf: PeerReading & { ok: true }, cas: readonly TrustedCa[]): ChainLink[] {
  const links: ChainLink[] = [leaf.link];
  let issuer = leaf.link.issuer;
  let keyId = leaf.authorityKeyId;
  for (let depth = 0; depth < MAX_CHAIN; depth++) {
    const ca = cas.find((c) =>
      c.subject === issuer && (keyId === null || c.keyId === null || c.keyId === keyId)
    );
    if (ca === undefined || ca.subject === ca.issuer) break; // a root is on no CRL but its own
    links.push(ca);
    issuer = ca.issuer;
    keyId = ca.authorityKeyId;
  }
  return links;
}

export interface KnownPeer {
  readonly reading: PeerReading;
  readonly links: ChainLink[];
  readonly leaf: x509.X509Certificate | null;
}

/**
 * Reads a client certificate (DER) with its chain among our CAs, once per certificate: RM opens
 * a new connection for every callback with the same certificate, so readings are kept by DER (a
 * verified certificate's content cannot change under the same bytes; revocation is still looked
 * up on every connection and request), the most recently used last, at most PEER_CACHE_SIZE.
 */
export function peerReadings(cas: readonly TrustedCa[]): (raw: Buffer) => KnownPeer {
  const readings = new Map<string, KnownPeer>();
  return function readKnown(raw) {
    const key = raw.toString("base64");
    let known = readings.get(key);
    if (known === undefined) {
      const reading = readPeerCertificate(new Uint8Array(raw));
      known = reading.ok
        ? {
          reading,
          links: chainOf(reading, cas),
          leaf: new x509.X509Certificate(new Uint8Array(raw)),
        }
        : { reading, links: [], leaf: null };
      if (readings.size >= PEER_CACHE_SIZE) readings.delete(readings.keys().next().value!);
    } else {
      readings.delete(key);
    }
    readings.set(key, known);
    return known;
  };
}
