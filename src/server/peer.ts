/** @module What a client certificate says about its holder: CN, RFC 4514 DN, serial, issuer. */
import * as x509 from "./x509.ts";
import { AsnConvert } from "@peculiar/asn1-schema";
import { Certificate, type Name, Version } from "@peculiar/asn1-x509";
import type { PeerIdentity } from "../transport/bindings.ts";
import { escapeDnValue } from "../transport/dn.ts";
import { normaliseSerial } from "./serial.ts";

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
