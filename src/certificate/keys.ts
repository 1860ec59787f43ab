/**
 * @module The product certificate's key material: RSA-4096 keys from Web Crypto, PEM in and out
 * (PKCS#8, and the PKCS#1 `RSA PRIVATE KEY` the Python image wrote), and the PKCS#10 request RM
 * signs — built with @peculiar/x509, never by hand.
 */
import * as x509 from "../x509/x509.ts";
import { AsnConvert } from "@peculiar/asn1-schema";
import { PrivateKey, PrivateKeyInfo } from "@peculiar/asn1-pkcs8";
import { rsaEncryption } from "@peculiar/asn1-rsa";

/** What kw_product_init generates and RM's CFSSL signs: RSA 4096, SHA-512 signatures. */
export const KEY_ALGORITHM: RsaHashedKeyGenParams = {
  name: "RSASSA-PKCS1-v1_5",
  modulusLength: 4096,
  publicExponent: new Uint8Array([1, 0, 1]),
  hash: "SHA-512",
};

const OID_CN = "2.5.4.3";

/** A new extractable RSA-4096 key pair. */
export async function generateKeyPair(): Promise<CryptoKeyPair> {
  return await crypto.subtle.generateKey(KEY_ALGORITHM, true, ["sign", "verify"]);
}

/** The private key as PKCS#8 PEM (`PRIVATE KEY`), which node:https and rustls both read. */
export async function privateKeyPem(keys: CryptoKeyPair): Promise<string> {
  const der = await crypto.subtle.exportKey("pkcs8", keys.privateKey);
  return x509.PemConverter.encode(der, "PRIVATE KEY") + "\n";
}

/** The DER inside a private key PEM, as PKCS#8 (a PKCS#1 RSA key is wrapped, unchanged). */
export function privateKeyDer(pem: string): Uint8Array<ArrayBuffer> {
  const label = /-----BEGIN ([A-Z ]+)-----/.exec(pem)?.[1];
  if (label !== "PRIVATE KEY" && label !== "RSA PRIVATE KEY") {
    throw new Error(
      label === undefined
        ? "Cannot read the private key: no PEM block"
        : `Cannot read the private key: unsupported PEM block "${label}"`,
    );
  }
  const der = new Uint8Array(x509.PemConverter.decodeFirst(pem)) as Uint8Array<ArrayBuffer>;
  if (label === "PRIVATE KEY") return der;
  const info = new PrivateKeyInfo({
    privateKeyAlgorithm: rsaEncryption,
    privateKey: new PrivateKey(der),
  });
  return new Uint8Array(AsnConvert.serialize(info)) as Uint8Array<ArrayBuffer>;
}

/**
 * Does `keyPem` hold the private half of `cert`'s public key? Proven by signing a random
 * challenge and verifying it with the certificate's key; any key type the certificate may carry.
 */
export async function keyMatchesCertificate(
  keyPem: string,
  cert: x509.X509Certificate,
): Promise<boolean> {
  const publicKey = await cert.publicKey.export();
  const algorithm = publicKey.algorithm as RsaHashedKeyAlgorithm | EcKeyAlgorithm;
  const importParams = algorithm.name === "ECDSA"
    ? { name: "ECDSA", namedCurve: (algorithm as EcKeyAlgorithm).namedCurve }
    : { name: algorithm.name, hash: "SHA-256" };
  const signParams = algorithm.name === "ECDSA"
    ? { name: "ECDSA", hash: "SHA-256" }
    : { name: algorithm.name, saltLength: 32 };
  let privateKey: CryptoKey;
  let verifyKey: CryptoKey;
  try {
    const der = privateKeyDer(keyPem);
    privateKey = await crypto.subtle.importKey("pkcs8", der, importParams, false, ["sign"]);
    verifyKey = await crypto.subtle.importKey(
      "spki",
      cert.publicKey.rawData,
      importParams,
      false,
      ["verify"],
    );
  } catch {
    return false; // another key type, or not a key at all
  }
  const challenge = crypto.getRandomValues(new Uint8Array(32));
  const signature = await crypto.subtle.sign(signParams, privateKey, challenge);
  return await crypto.subtle.verify(signParams, verifyKey, signature, challenge);
}

/** Imports a private key PEM (PKCS#8 or PKCS#1) as the RSA pair the CSR is signed with. */
export async function importRsaKeyPair(keyPem: string): Promise<CryptoKeyPair> {
  const der = privateKeyDer(keyPem);
  const params = { name: KEY_ALGORITHM.name, hash: KEY_ALGORITHM.hash };
  const privateKey = await crypto.subtle.importKey("pkcs8", der, params, true, ["sign"]);
  // Web Crypto cannot derive a public key from a private one; the JWK carries n and e.
  const jwk = await crypto.subtle.exportKey("jwk", privateKey);
  const publicKey = await crypto.subtle.importKey(
    "jwk",
    { kty: "RSA", n: jwk.n!, e: jwk.e!, ext: true },
    params,
    true,
    ["verify"],
  );
  return { privateKey, publicKey };
}

/**
 * The PKCS#10 request kw_product_init sends: CN only (no SAN), SHA-512 with RSA, CA:false,
 * clientAuth + serverAuth, digitalSignature | keyEncipherment | dataEncipherment.
 */
export async function buildCsr(keys: CryptoKeyPair, cn: string): Promise<string> {
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    // A JSON name with an explicit UTF8String: a string DN would be parsed, not quoted.
    name: new x509.Name([{ [OID_CN]: [{ utf8String: cn }] }]),
    keys,
    signingAlgorithm: { name: KEY_ALGORITHM.name, hash: KEY_ALGORITHM.hash },
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.ExtendedKeyUsageExtension(
        [x509.ExtendedKeyUsage.clientAuth, x509.ExtendedKeyUsage.serverAuth],
        false,
      ),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment |
          x509.KeyUsageFlags.dataEncipherment,
        true,
      ),
    ],
  });
  return csr.toString("pem") + "\n";
}

/** The subject CN of a certificate or request, or `null` when it has none. */
export function commonName(name: x509.Name): string | null {
  const values = name.getField(OID_CN);
  return values[0] ?? null;
}
