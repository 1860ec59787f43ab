/**
 * @module Whether a certificate may be presented as a TLS *server* certificate, judged as OpenSSL's
 * `ssl_server` purpose check judges it (RM's aiohttp runs on OpenSSL).
 */
import * as x509 from "../x509/x509.ts";

const SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
const ANY_EXTENDED_KEY_USAGE = "2.5.29.37.0";

/** What is wrong with presenting a certificate to TLS clients, or `null` when nothing is. */
export interface ServerUseVerdict {
  /** Why a TLS client refuses it (`unsuitable certificate purpose`), or `null`. */
  readonly refusal: string | null;
  /** Accepted by OpenSSL's purpose check, but a client checking host names will refuse it. */
  readonly warning: string | null;
}

/**
 * Judges the leaf (the first certificate) of `certPem`. A leaf with an extended key usage that
 * lacks serverAuth, or a key usage without digitalSignature and keyEncipherment, is refused by
 * every OpenSSL client; a leaf without a DNS subject alternative name fails host-name checks.
 *
 * @throws when `certPem` holds no certificate that parses
 */
export function judgeServerUse(certPem: string): ServerUseVerdict {
  const leaf = new x509.X509Certificate(certPem);
  const subject = leaf.subject;
  let refusal: string | null = null;
  const eku = leaf.getExtension(x509.ExtendedKeyUsageExtension);
  if (eku !== null) {
    const usages = eku.usages.map(String);
    if (!usages.includes(SERVER_AUTH) && !usages.includes(ANY_EXTENDED_KEY_USAGE)) {
      refusal = `certificate "${subject}" has no serverAuth extended key usage ` +
        `(it allows ${usages.map(_ekuName).join(", ") || "nothing"})`;
    }
  }
  const ku = leaf.getExtension(x509.KeyUsagesExtension);
  if (refusal === null && ku !== null) {
    const server = x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment |
      x509.KeyUsageFlags.keyAgreement;
    if ((ku.usages & server) === 0) {
      refusal = `certificate "${subject}" has a key usage that allows no TLS server key exchange`;
    }
  }
  const san = leaf.getExtension(x509.SubjectAlternativeNameExtension);
  const dnsNames = san?.names.items.filter((n) => n.type === "dns") ?? [];
  const warning = dnsNames.length === 0
    ? `certificate "${subject}" names no DNS host (no subjectAltName): clients that check ` +
      "host names refuse it"
    : null;
  return { refusal, warning };
}

function _ekuName(oid: string): string {
  const names: Record<string, string> = {
    "1.3.6.1.5.5.7.3.1": "serverAuth",
    "1.3.6.1.5.5.7.3.2": "clientAuth",
    "1.3.6.1.5.5.7.3.3": "codeSigning",
    "1.3.6.1.5.5.7.3.4": "emailProtection",
    "1.3.6.1.5.5.7.3.9": "OCSPSigning",
  };
  return names[oid] ?? oid;
}
