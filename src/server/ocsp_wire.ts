/**
 * @module OCSP on the wire (RFC 6960): the request for one certificate, and the checks that make a
 * responder's answer believable — signed by the issuing CA or by a responder certificate that CA
 * issued for OCSP signing, about exactly our certificate, current, and with our nonce if any.
 */
import { AsnConvert, OctetString } from "@peculiar/asn1-schema";
import { AlgorithmIdentifier, Certificate, Extension } from "@peculiar/asn1-x509";
import {
  BasicOCSPResponse,
  CertID,
  id_kp_OCSPSigning,
  id_pkix_ocsp_basic,
  id_pkix_ocsp_nonce,
  Nonce,
  OCSPRequest,
  OCSPResponse,
  OCSPResponseStatus,
  Request as OcspSingleRequest,
  type SingleResponse,
  TBSRequest,
} from "@peculiar/asn1-ocsp";
import * as x509 from "./x509.ts";

/** The certificate asked about and the CA that issued it. */
export interface OcspSubject {
  readonly leaf: x509.X509Certificate;
  readonly issuer: x509.X509Certificate;
}

/** A believable answer about one certificate. */
export interface OcspAnswer {
  readonly status: "good" | "revoked" | "unknown";
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | null;
  readonly revokedAt: Date | null;
}

/** Why an answer is not believed, or why there is none; the message never holds a secret. */
export class OcspError extends Error {
  override readonly name = "OcspError";
}

const SHA1 = "1.3.14.3.2.26";
const SHA256 = "2.16.840.1.101.3.4.2.1";
const HASHES: Readonly<Record<string, string>> = { [SHA1]: "SHA-1", [SHA256]: "SHA-256" };
// Signature algorithms a responder may use; SHA-1 and RSA-PSS are not among them.
const SIGNATURES: Readonly<Record<string, { name: string; hash: string }>> = {
  "1.2.840.113549.1.1.11": { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
  "1.2.840.113549.1.1.12": { name: "RSASSA-PKCS1-v1_5", hash: "SHA-384" },
  "1.2.840.113549.1.1.13": { name: "RSASSA-PKCS1-v1_5", hash: "SHA-512" },
  "1.2.840.10045.4.3.2": { name: "ECDSA", hash: "SHA-256" },
  "1.2.840.10045.4.3.3": { name: "ECDSA", hash: "SHA-384" },
  "1.2.840.10045.4.3.4": { name: "ECDSA", hash: "SHA-512" },
};
/** Clocks disagree a little; a responder's `thisUpdate` may be this far ahead of ours. */
export const CLOCK_SKEW_MS = 60_000;
/** Without `nextUpdate`, an answer older than this is stale. */
export const MAX_AGE_WITHOUT_NEXT_UPDATE_MS = 3_600_000;

/** The OCSP responder URL in a certificate's Authority Information Access, or `null`. */
export function ocspUrlOf(cert: x509.X509Certificate): string | null {
  const aia = cert.getExtension(x509.AuthorityInfoAccessExtension);
  const url = aia?.ocsp.find((name) => name.type === "url")?.value;
  return url ?? null;
}

/**
 * A DER OCSP request for `subject` (SHA-1 CertID, as OpenSSL, nginx and CFSSL's responder expect:
 * CFSSL looks answers up by the issuer key hash as a SHA-1 key identifier) with `nonce`.
 */
export async function encodeOcspRequest(
  subject: OcspSubject,
  nonce: Uint8Array,
): Promise<Uint8Array<ArrayBuffer>> {
  const reqCert = await certIdFor(subject, SHA1);
  const nonceValue = AsnConvert.serialize(new Nonce(new Uint8Array(nonce)));
  const request = new OCSPRequest({
    tbsRequest: new TBSRequest({
      requestList: [new OcspSingleRequest({ reqCert })],
      requestExtensions: [
        new Extension({ extnID: id_pkix_ocsp_nonce, extnValue: new OctetString(nonceValue) }),
      ],
    }),
  });
  return new Uint8Array(AsnConvert.serialize(request));
}

/** The CertID of `subject` with the hash named by `hashOid`. */
export async function certIdFor(subject: OcspSubject, hashOid: string): Promise<CertID> {
  const hash = HASHES[hashOid];
  if (hash === undefined) throw new OcspError(`unsupported CertID hash ${hashOid}`);
  const leaf = AsnConvert.parse(subject.leaf.rawData, Certificate).tbsCertificate;
  const issuer = AsnConvert.parse(subject.issuer.rawData, Certificate).tbsCertificate;
  const digest = async (data: BufferSource) =>
    new OctetString(await crypto.subtle.digest(hash, data));
  return new CertID({
    hashAlgorithm: new AlgorithmIdentifier({ algorithm: hashOid, parameters: null }),
    issuerNameHash: await digest(AsnConvert.serialize(leaf.issuer)),
    issuerKeyHash: await digest(issuer.subjectPublicKeyInfo.subjectPublicKey),
    serialNumber: leaf.serialNumber,
  });
}

/** Options for {@linkcode readOcspResponse}. */
export interface ReadOptions {
  /** The nonce sent; an answer that echoes another one is refused. */
  readonly nonce: Uint8Array;
  readonly now: Date;
  /** Whether a delegated responder certificate has been revoked (by the CRL in force). */
  readonly isRevoked?: (cert: x509.X509Certificate) => boolean;
}

/**
 * Parses and verifies a DER OCSP response about `subject`.
 *
 * @throws {OcspError} when the responder did not answer `successful`, the answer is not signed
 * by the issuer or a responder certificate it issued with id-kp-OCSPSigning, names another
 * certificate, echoes another nonce, is dated in the future or is stale.
 */
export async function readOcspResponse(
  der: Uint8Array,
  subject: OcspSubject,
  options: ReadOptions,
): Promise<OcspAnswer> {
  let outer: OCSPResponse;
  let basic: BasicOCSPResponse;
  let tbs: Uint8Array;
  try {
    outer = AsnConvert.parse(der, OCSPResponse);
  } catch (err) {
    throw new OcspError(`unparsable OCSP response: ${(err as Error).message}`);
  }
  if (outer.responseStatus !== OCSPResponseStatus.successful) {
    const status = OCSPResponseStatus[outer.responseStatus] ?? String(outer.responseStatus);
    throw new OcspError(`the responder answered "${status}"`);
  }
  const bytes = outer.responseBytes;
  if (bytes?.responseType !== id_pkix_ocsp_basic) {
    throw new OcspError(`not a basic OCSP response (${bytes?.responseType ?? "no body"})`);
  }
  try {
    basic = AsnConvert.parse(bytes.response.buffer, BasicOCSPResponse);
    tbs = _firstElement(new Uint8Array(bytes.response.buffer));
  } catch (err) {
    throw new OcspError(`unparsable basic OCSP response: ${(err as Error).message}`);
  }
  // What the answer says is checked first, then who said it: each failure is named as itself.
  const single = await _responseFor(basic.tbsResponseData.responses, subject);
  _checkNonce(basic, options.nonce);
  _checkTimes(single, options.now);
  await _verifySigner(basic, tbs, subject, options);
  const status = single.certStatus;
  if (status.revoked !== undefined) {
    return {
      status: "revoked",
      thisUpdate: single.thisUpdate,
      nextUpdate: single.nextUpdate ?? null,
      revokedAt: status.revoked.revocationTime,
    };
  }
  return {
    status: status.good !== undefined ? "good" : "unknown",
    thisUpdate: single.thisUpdate,
    nextUpdate: single.nextUpdate ?? null,
    revokedAt: null,
  };
}

async function _responseFor(
  responses: readonly SingleResponse[],
  subject: OcspSubject,
): Promise<SingleResponse> {
  for (const single of responses) {
    const hashOid = single.certID.hashAlgorithm.algorithm;
    if (HASHES[hashOid] === undefined) continue;
    const ours = await certIdFor(subject, hashOid);
    if (_sameCertId(ours, single.certID)) return single;
  }
  throw new OcspError("the answer is about another certificate (no matching CertID)");
}

function _sameCertId(a: CertID, b: CertID): boolean {
  return _equal(a.issuerNameHash.buffer, b.issuerNameHash.buffer) &&
    _equal(a.issuerKeyHash.buffer, b.issuerKeyHash.buffer) &&
    _equal(_unsigned(a.serialNumber), _unsigned(b.serialNumber));
}

function _checkNonce(basic: BasicOCSPResponse, nonce: Uint8Array): void {
  const ext = basic.tbsResponseData.responseExtensions?.find((e) =>
    e.extnID === id_pkix_ocsp_nonce
  );
  if (ext === undefined) return; // optional: CFSSL's responder serves pre-signed answers
  const echoed = new Uint8Array(AsnConvert.parse(ext.extnValue.buffer, Nonce).buffer);
  if (!_equal(echoed, nonce)) throw new OcspError("the answer carries another request's nonce");
}

function _checkTimes(single: SingleResponse, now: Date): void {
  const t = now.getTime();
  if (single.thisUpdate.getTime() > t + CLOCK_SKEW_MS) {
    throw new OcspError(`the answer's thisUpdate ${single.thisUpdate.toISOString()} is ahead`);
  }
  const next = single.nextUpdate;
  if (next !== undefined && next.getTime() < t - CLOCK_SKEW_MS) {
    throw new OcspError(`the answer is stale (nextUpdate ${next.toISOString()})`);
  }
  if (next === undefined && single.thisUpdate.getTime() < t - MAX_AGE_WITHOUT_NEXT_UPDATE_MS) {
    throw new OcspError(`the answer is stale (thisUpdate ${single.thisUpdate.toISOString()})`);
  }
}

/** Finds who signed (the CA, or a delegated responder it issued) and checks the signature. */
async function _verifySigner(
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
    return _equal(AsnConvert.serialize(responder.byName), AsnConvert.serialize(subject));
  }
  if (responder.byKey !== undefined) {
    const spki = AsnConvert.parse(cert.rawData, Certificate).tbsCertificate.subjectPublicKeyInfo;
    const hash = await crypto.subtle.digest("SHA-1", spki.subjectPublicKey);
    return _equal(hash, responder.byKey.buffer);
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

/** The first element inside a DER SEQUENCE, header included (the signed `tbsResponseData`). */
function _firstElement(der: Uint8Array): Uint8Array {
  const inner = _header(der, 0);
  const child = _header(der, inner.contentAt);
  return der.subarray(inner.contentAt, child.contentAt + child.length);
}

function _header(der: Uint8Array, at: number): { contentAt: number; length: number } {
  const first = der[at + 1];
  if (first === undefined) throw new Error("truncated DER");
  if ((first & 0x80) === 0) return { contentAt: at + 2, length: first };
  const octets = first & 0x7f;
  if (octets === 0 || octets > 4) throw new Error("unsupported DER length");
  let length = 0;
  for (let k = 0; k < octets; k++) length = length * 256 + (der[at + 2 + k] ?? 0);
  if (at + 2 + octets + length > der.length) throw new Error("truncated DER");
  return { contentAt: at + 2 + octets, length };
}

function _unsigned(bytes: ArrayBuffer): Uint8Array {
  const view = new Uint8Array(bytes);
  let start = 0;
  while (start < view.length - 1 && view[start] === 0) start++;
  return view.subarray(start);
}

function _equal(a: ArrayBuffer | Uint8Array, b: ArrayBuffer | Uint8Array): boolean {
  const x = a instanceof Uint8Array ? a : new Uint8Array(a);
  const y = b instanceof Uint8Array ? b : new Uint8Array(b);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}
