/**
 * @module Who signed an OCSP answer: the issuing CA, or a responder certificate it issued for OCSP
 * signing (RFC 6960 §4.2.2.2), and whether the signature over the answer verifies.
 */
import { AsnConvert } from "@peculiar/asn1-schema";
import { Certificate } from "@peculiar/asn1-x509";
import { type BasicOCSPResponse, id_kp_OCSPSigning } from "@peculiar/asn1-ocsp";
import * as x509 from "../x509/x509.ts";
import {
  bytesEqual,
  CLOCK_SKEW_MS,
  OcspError,
  type OcspSubject,
  type ReadOptions,
} from "./ocsp_common.ts";

// Signature algorithms a responder may use; SHA-1 and RSA-PSS are not among them.
const SIGNATURES: Readonly<Record<string, { name: string; hash: string }>> = {
  "1.2.840.113549.1.1.11": { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
  "1.2.840.113549.1.1.12": { name: "RSASSA-PKCS1-v1_5", hash: "SHA-384" },
  "1.2.840.113549.1.1.13": { name: "RSASSA-PKCS1-v1_5", hash: "SHA-512" },
  "1.2.840.10045.4.3.2": { name: "ECDSA", hash: "SHA-256" },
  "1.2.840.10045.4.3.3": { name: "ECDSA", hash: "SHA-384" },
  "1.2.840.10045.4.3.4": { name: "ECDSA", hash: "SHA-512" },
};
/** Finds who signed (the CA, or a delegated responder it issued) and checks the signature. */
export async function verifySigner(
  basic: BasicOCSPResponse,
  tbs: Uint8Array,
  subject: OcspSubject,
  options: ReadOptions,
): Promise<void> {
  const algorithm = SIGNATURES[basic.signatureAlgorithm.algorithm];
  if (algorithm === undefined) {
    throw new OcspError(`unsupported signature algorithm ${basic.signatureAlgorithm.algorithm}`);
  }
  const responder = basic.tbsResponseData.responderID;
  const candidates = [
    subject.issuer,
    ...(basic.certs ?? []).map((c) => new x509.X509Certificate(AsnConvert.serialize(c))),
  ];
  for (const cert of candidates) {
    if (!await _namedBy(responder, cert)) continue;
    if (cert !== subject.issuer) await _checkDelegate(cert, subject.issuer, options);
    if (await _signatureVerifies(cert, algorithm, basic.signature, tbs)) return;
    throw new OcspError(`the answer's signature does not verify with "${cert.subject}"'s key`);
  }
  throw new OcspError("the answer is signed by neither the issuing CA nor a responder it named");
}

async function _namedBy(
  responder: BasicOCSPResponse["tbsResponseData"]["responderID"],
  cert: x509.X509Certificate,
): Promise<boolean> {
  if (responder.byName !== undefined) {
    const subject = AsnConvert.parse(cert.rawData, Certificate).tbsCertificate.subject;
    return bytesEqual(AsnConvert.serialize(responder.byName), AsnConvert.serialize(subject));
  }
  if (responder.byKey !== undefined) {
    const spki = AsnConvert.parse(cert.rawData, Certificate).tbsCertificate.subjectPublicKeyInfo;
    const hash = await crypto.subtle.digest("SHA-1", spki.subjectPublicKey);
    return bytesEqual(hash, responder.byKey.buffer);
  }
  return false;
}

/** RFC 6960 §4.2.2.2: issued directly by the CA in question, for OCSP signing, valid now. */
async function _checkDelegate(
  cert: x509.X509Certificate,
  issuer: x509.X509Certificate,
  options: ReadOptions,
): Promise<void> {
  const name = `responder certificate "${cert.subject}"`;
  if (cert.issuer !== issuer.subject) throw new OcspError(`${name} is not issued by the CA`);
  const signed = await cert.verify({ publicKey: issuer.publicKey, signatureOnly: true })
    .catch(() => false);
  if (!signed) throw new OcspError(`${name} is not signed by the CA`);
  const usages = cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages.map(String) ?? [];
  if (!usages.includes(id_kp_OCSPSigning)) throw new OcspError(`${name} lacks id-kp-OCSPSigning`);
  const t = options.now.getTime();
  if (cert.notBefore.getTime() > t + CLOCK_SKEW_MS || cert.notAfter.getTime() < t) {
    throw new OcspError(`${name} is not within its validity`);
  }
  if (options.isRevoked?.(cert)) throw new OcspError(`${name} is revoked`);
}

async function _signatureVerifies(
  cert: x509.X509Certificate,
  algorithm: { name: string; hash: string },
  signature: ArrayBuffer,
  tbs: Uint8Array,
): Promise<boolean> {
  try {
    const keyAlgorithm = { ...cert.publicKey.algorithm, hash: algorithm.hash };
    if (keyAlgorithm.name !== algorithm.name) return false;
    const key = await cert.publicKey.export(keyAlgorithm, ["verify"]);
    let sig: ArrayBuffer = signature;
    if (algorithm.name === "ECDSA") {
      const raw = new x509.AsnEcSignatureFormatter().toWebSignature(keyAlgorithm, signature);
      if (raw === null) return false;
      sig = raw;
    }
    return await crypto.subtle.verify(keyAlgorithm, key, sig, new Uint8Array(tbs));
  } catch {
    return false;
  }
}
