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
import * as x509 from "../x509/x509.ts";
import { verifySigner } from "./ocsp_signer.ts";
import {
  bytesEqual,
  CLOCK_SKEW_MS,
  OcspError,
  type OcspSubject,
  type ReadOptions,
} from "./ocsp_common.ts";

export { CLOCK_SKEW_MS, OcspError, type OcspSubject, type ReadOptions };

/** A believable answer about one certificate. */
export interface OcspAnswer {
  readonly status: "good" | "revoked" | "unknown";
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | null;
  readonly revokedAt: Date | null;
}

const SHA1 = "1.3.14.3.2.26";
const SHA256 = "2.16.840.1.101.3.4.2.1";
const HASHES: Readonly<Record<string, string>> = { [SHA1]: "SHA-1", [SHA256]: "SHA-256" };
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
  await verifySigner(basic, tbs, subject, options);
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
  return bytesEqual(a.issuerNameHash.buffer, b.issuerNameHash.buffer) &&
    bytesEqual(a.issuerKeyHash.buffer, b.issuerKeyHash.buffer) &&
    bytesEqual(_unsigned(a.serialNumber), _unsigned(b.serialNumber));
}

function _checkNonce(basic: BasicOCSPResponse, nonce: Uint8Array): void {
  const ext = basic.tbsResponseData.responseExtensions?.find((e) =>
    e.extnID === id_pkix_ocsp_nonce
  );
  if (ext === undefined) return; // optional: CFSSL's responder serves pre-signed answers
  const echoed = new Uint8Array(AsnConvert.parse(ext.extnValue.buffer, Nonce).buffer);
  if (!bytesEqual(echoed, nonce)) throw new OcspError("the answer carries another request's nonce");
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
