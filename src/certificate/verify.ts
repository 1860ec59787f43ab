/**
 * @module Is a certificate and key pair usable as the product's identity? Parses the PEM
 * bundle, proves the key belongs to the leaf, checks its validity window and CN, and follows
 * signatures up to one of the trusted CA files.
 */
import * as x509 from "../x509/x509.ts";
import { normaliseSerial } from "../x509/serial.ts";
import { commonName, keyMatchesCertificate } from "./keys.ts";

/** What the service reports about its certificate (no secrets). */
export interface CertificateFacts {
  readonly cn: string | null;
  readonly serial: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly issuer: string;
}

export type PairCheck =
  | { readonly ok: true; readonly facts: CertificateFacts; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly reason: string; readonly facts: CertificateFacts | null };

export interface CheckPairOptions {
  /** Leaf first, then any intermediates (what RM returns as `certificate`). */
  readonly certPem: string;
  readonly keyPem: string;
  readonly caPems: readonly string[];
  readonly now: Date;
  /** Refuse a leaf whose subject CN differs; when absent, a different CN is only a warning. */
  readonly requireCn?: string;
  /** Report an untrusted chain as a warning instead of refusing the pair. @default false */
  readonly chainIsWarning?: boolean;
  /** The CN a warning compares with when `requireCn` is absent. */
  readonly expectedCn?: string;
}

const MAX_CHAIN = 8;

/** The certificates in a PEM bundle, in order; throws when there is none or one is broken. */
export function parseBundle(pem: string): x509.X509Certificate[] {
  const blocks = x509.PemConverter.decodeWithHeaders(pem).filter((b) => b.type === "CERTIFICATE");
  if (blocks.length === 0) throw new Error("no CERTIFICATE block");
  return blocks.map((b) => new x509.X509Certificate(b.rawData));
}

export function factsOf(cert: x509.X509Certificate): CertificateFacts {
  return {
    cn: commonName(cert.subjectName),
    serial: normaliseSerial(cert.serialNumber),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    issuer: cert.issuerName.toString(),
  };
}

export async function checkPair(o: CheckPairOptions): Promise<PairCheck> {
  let bundle: x509.X509Certificate[];
  try {
    bundle = parseBundle(o.certPem);
  } catch (err) {
    return {
      ok: false,
      reason: `the certificate is unreadable: ${(err as Error).message}`,
      facts: null,
    };
  }
  const leaf = bundle[0]!;
  const facts = factsOf(leaf);
  const refuse = (reason: string): PairCheck => ({ ok: false, reason, facts });
  if (!await keyMatchesCertificate(o.keyPem, leaf)) {
    return refuse("the private key does not belong to the certificate");
  }
  if (o.now < facts.notBefore) {
    return refuse(`the certificate is not valid before ${facts.notBefore.toISOString()}`);
  }
  if (o.now >= facts.notAfter) {
    return refuse(`the certificate expired at ${facts.notAfter.toISOString()}`);
  }
  const warnings: string[] = [];
  const wantCn = o.requireCn ?? o.expectedCn;
  if (wantCn !== undefined && facts.cn !== wantCn) {
    const message = `the certificate's CN is ${JSON.stringify(facts.cn)}, not ${
      JSON.stringify(wantCn)
    }`;
    if (o.requireCn !== undefined) return refuse(message);
    warnings.push(message);
  }
  const chain = await chainsToTrusted(leaf, bundle.slice(1), o.caPems);
  if (chain !== null) {
    if (!o.chainIsWarning) return refuse(chain);
    warnings.push(chain);
  }
  return { ok: true, facts, warnings };
}

/** `null` when signatures lead from `leaf` to a trusted CA; otherwise why not. */
export async function chainsToTrusted(
  leaf: x509.X509Certificate,
  intermediates: readonly x509.X509Certificate[],
  caPems: readonly string[],
): Promise<string | null> {
  const trusted: x509.X509Certificate[] = [];
  for (const pem of caPems) {
    try {
      trusted.push(...parseBundle(pem));
    } catch {
      // An unreadable CA file trusts nothing; the CA loader reports it where it is read.
    }
  }
  let current = leaf;
  for (let depth = 0; depth < MAX_CHAIN; depth++) {
    const issuer = current.issuerName.toString();
    for (const ca of trusted) {
      if (ca.subjectName.toString() === issuer && await _signedBy(current, ca)) return null;
    }
    const next = await _find(intermediates, issuer, current);
    if (next === undefined) break;
    current = next;
  }
  return `the certificate does not chain to the trusted CA files (issuer ${
    JSON.stringify(leaf.issuerName.toString())
  })`;
}

async function _find(
  candidates: readonly x509.X509Certificate[],
  issuer: string,
  child: x509.X509Certificate,
): Promise<x509.X509Certificate | undefined> {
  for (const c of candidates) {
    const isCa = c.getExtension(x509.BasicConstraintsExtension)?.ca === true;
    if (isCa && c.subjectName.toString() === issuer && await _signedBy(child, c)) return c;
  }
  return undefined;
}

async function _signedBy(child: x509.X509Certificate, ca: x509.X509Certificate): Promise<boolean> {
  try {
    return await child.verify({ publicKey: ca.publicKey, signatureOnly: true });
  } catch {
    return false;
  }
}
