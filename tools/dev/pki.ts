/** @module A throwaway CFSSL-shaped PKI (root → intermediate → leaves, CRLs), pure Deno. */
import * as x509 from "../../src/x509/x509.ts";
import { AsnConvert } from "@peculiar/asn1-schema";
import { Certificate, Version } from "@peculiar/asn1-x509";

const KEY_ALG = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGN_ALG = { name: "ECDSA", hash: "SHA-256" } as const;
const DAY = 86_400_000;
const OID = { CN: "2.5.4.3", O: "2.5.4.10" } as const;

export interface Issued {
  readonly certPem: string;
  /** PKCS#8 PEM (node:https and Deno.createHttpClient both take it). */
  readonly keyPem: string;
  /** The serial as @peculiar/x509 reads it back: lower-case hex, padded to whole bytes. */
  readonly serialHex: string;
}

export interface LeafOptions {
  readonly cn: string;
  /** Organisation, written before the CN (most general first, as CAs do). */
  readonly o?: string;
  readonly kind: "server" | "client";
  /** Hex serial; random (see `randomSerialHex`) when absent. */
  readonly serialHex?: string;
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  /** Issue an X.509 v1 certificate (no extensions), which no TLS peer should accept. */
  readonly v1?: boolean;
}

export interface CrlOptions {
  readonly issuer: "root" | "intermediate";
  /** Hex serials, any spelling. */
  readonly revokedSerials?: readonly string[];
  /** @default a minute ago */
  readonly thisUpdate?: Date;
  /** @default in seven days */
  readonly nextUpdate?: Date;
  /** Sign with a fresh key under the issuer's name: a forged CRL that must not verify. */
  readonly signWithForeignKey?: boolean;
}

export interface TestPki {
  readonly rootPem: string;
  readonly intermediatePem: string;
  /** Intermediate then root, like `/ca_public/ca_chain.pem`. */
  readonly chainPem: string;
  /** A leaf signed by the intermediate, as every person and product certificate is. */
  issueLeaf(options: LeafOptions): Promise<Issued>;
  /**
   * Signs a PKCS#10 request as RM's CFSSL does: the request's key and CN, client and server auth,
   * valid from a second ago for `validityMs` (default 42 days). Returns leaf + intermediate PEM.
   */
  signCsr(csrPem: string, options?: { validityMs?: number }): Promise<string>;
  /** A CRL as PEM (`X509 CRL`, the label OpenSSL and CFSSL use). */
  issueCrl(options: CrlOptions): Promise<string>;
  /**
   * A client certificate from an unrelated root; with `sameNames`, that root and its
   * intermediate carry exactly our CA names (an impostor only signatures can tell apart).
   */
  foreignClient(cn: string, options?: { sameNames?: boolean }): Promise<Issued & { caPem: string }>;
}

interface Ca {
  readonly cert: x509.X509Certificate;
  readonly keys: CryptoKeyPair;
}

/**
 * A random positive serial. `odd-digits`: its hex has an odd number of digits, so node
 * (`ABC…`) and @peculiar/x509 (`0abc…`) spell it differently. `high-bit`: its top bit is set,
 * so DER needs a leading zero byte. `plain`: neither.
 */
export function randomSerialHex(shape: "plain" | "odd-digits" | "high-bit" = "plain"): string {
  const bytes = crypto.getRandomValues(new Uint8Array(9));
  const top = bytes[0]!;
  if (shape === "odd-digits") bytes[0] = (top % 15) + 1; // 0x01..0x0f
  else if (shape === "high-bit") bytes[0] = top | 0x80;
  else bytes[0] = (top % 0x70) + 0x10; // 0x10..0x7f
  return _hex(bytes);
}

function _hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function _newKeys(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(KEY_ALG, true, ["sign", "verify"]) as Promise<CryptoKeyPair>;
}

// JSON names with explicit UTF8String values: a string DN would be parsed, so `,` or `#` in a
// CN would change the name rather than be part of it.
function _name(cn: string, o?: string): x509.JsonNameParams {
  const rdns: x509.JsonNameParams = o === undefined ? [] : [{ [OID.O]: [{ utf8String: o }] }];
  return [...rdns, { [OID.CN]: [{ utf8String: cn }] }];
}

async function _createCa(cn: string, parent: Ca | null): Promise<Ca> {
  const keys = await _newKeys();
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(true, parent === null ? undefined : 0, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
  ];
  if (parent !== null) {
    extensions.push(await x509.AuthorityKeyIdentifierExtension.create(parent.keys.publicKey));
  }
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialHex(),
    subject: new x509.Name(_name(cn, "PVARKI dev")),
    issuer: parent?.cert.subjectName ?? new x509.Name(_name(cn, "PVARKI dev")),
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + 365 * DAY),
    publicKey: keys.publicKey,
    signingKey: (parent?.keys ?? keys).privateKey,
    signingAlgorithm: SIGN_ALG,
    extensions,
  });
  return { cert, keys };
}

async function _issueLeaf(ca: Ca, options: LeafOptions): Promise<Issued> {
  const keys = await _newKeys();
  const sans = [
    ...(options.dnsNames ?? []).map((value) => ({ type: "dns" as const, value })),
    ...(options.ipAddresses ?? []).map((value) => ({ type: "ip" as const, value })),
  ];
  const usage = options.kind === "server"
    ? x509.ExtendedKeyUsage.serverAuth
    : x509.ExtendedKeyUsage.clientAuth;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: options.serialHex ?? randomSerialHex(),
    subject: new x509.Name(_name(options.cn, options.o)),
    issuer: ca.cert.subjectName,
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + 30 * DAY),
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    signingAlgorithm: SIGN_ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([usage]),
      await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey),
      ...(sans.length > 0 ? [new x509.SubjectAlternativeNameExtension(sans)] : []),
    ],
  });
  const keyPem = x509.PemConverter.encode(
    await crypto.subtle.exportKey("pkcs8", keys.privateKey),
    "PRIVATE KEY",
  );
  const certPem = options.v1 ? await _downgradeToV1(cert, ca) : cert.toString("pem");
  return { certPem, keyPem, serialHex: cert.serialNumber };
}

// @peculiar/x509 only writes v3. Take its TBSCertificate, set version v1, drop the extensions
// (v1 has none) and sign the re-encoded TBS with the CA key: a valid v1 certificate.
async function _downgradeToV1(cert: x509.X509Certificate, ca: Ca): Promise<string> {
  const asn = AsnConvert.parse(cert.rawData, Certificate);
  asn.tbsCertificate.version = Version.v1;
  delete asn.tbsCertificate.extensions;
  const tbs = AsnConvert.serialize(asn.tbsCertificate);
  const raw = await crypto.subtle.sign(SIGN_ALG, ca.keys.privateKey, tbs);
  // Web Crypto gives r‖s; X.509 wants the DER SEQUENCE { r, s }.
  const der = new x509.AsnEcSignatureFormatter().toAsnSignature(SIGN_ALG, raw);
  if (der === null) throw new Error("Cannot encode the ECDSA signature of a v1 certificate");
  asn.signatureValue = der;
  return x509.PemConverter.encode(AsnConvert.serialize(asn), "CERTIFICATE");
}

async function _signCsr(
  ca: Ca,
  csrPem: string,
  options: { validityMs?: number } = {},
): Promise<string> {
  const csr = new x509.Pkcs10CertificateRequest(csrPem);
  if (!await csr.verify()) throw new Error("the CSR's signature does not verify");
  // X.509 times have whole seconds: start at the last full second, so `notBefore` is the past.
  const notBefore = new Date(Math.floor(Date.now() / 1000) * 1000 - 1000);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialHex(),
    subject: csr.subjectName,
    issuer: ca.cert.subjectName,
    notBefore,
    notAfter: new Date(notBefore.getTime() + (options.validityMs ?? 42 * DAY)),
    publicKey: csr.publicKey,
    signingKey: ca.keys.privateKey,
    signingAlgorithm: SIGN_ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([
        x509.ExtendedKeyUsage.serverAuth,
        x509.ExtendedKeyUsage.clientAuth,
      ]),
      await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey),
    ],
  });
  return `${cert.toString("pem")}\n${ca.cert.toString("pem")}\n`;
}

async function _issueCrl(ca: Ca, options: CrlOptions): Promise<string> {
  const crl = await x509.X509CrlGenerator.create({
    issuer: ca.cert.subjectName,
    thisUpdate: options.thisUpdate ?? new Date(Date.now() - 60_000),
    nextUpdate: options.nextUpdate ?? new Date(Date.now() + 7 * DAY),
    signingAlgorithm: SIGN_ALG,
    signingKey: options.signWithForeignKey ? (await _newKeys()).privateKey : ca.keys.privateKey,
    entries: (options.revokedSerials ?? []).map((serial) => ({
      serialNumber: serial.toLowerCase(),
      revocationDate: new Date(),
    })),
  });
  // Ends with a newline, so that concatenated CRLs stay one PEM block per line range.
  return x509.PemConverter.encode(crl.rawData, "X509 CRL") + "\n";
}

/** Creates a fresh root and intermediate CA and the means to issue from them. */
export async function createTestPki(name = "matrixrmapi test"): Promise<TestPki> {
  const root = await _createCa(`${name} root CA`, null);
  const intermediate = await _createCa(`${name} intermediate CA`, root);
  const rootPem = root.cert.toString("pem");
  const intermediatePem = intermediate.cert.toString("pem");
  return {
    rootPem,
    intermediatePem,
    chainPem: `${intermediatePem}\n${rootPem}\n`,
    issueLeaf: (options) => _issueLeaf(intermediate, options),
    signCsr: (csrPem, options) => _signCsr(intermediate, csrPem, options),
    issueCrl: (options) => _issueCrl(options.issuer === "root" ? root : intermediate, options),
    async foreignClient(cn, options = {}) {
      const foreignRoot = await _createCa(
        options.sameNames ? `${name} root CA` : "foreign root CA",
        null,
      );
      const foreignIntermediate = await _createCa(
        options.sameNames ? `${name} intermediate CA` : "foreign intermediate CA",
        foreignRoot,
      );
      const issued = await _issueLeaf(foreignIntermediate, { cn, kind: "client" });
      return {
        ...issued,
        caPem: `${foreignIntermediate.cert.toString("pem")}\n${foreignRoot.cert.toString("pem")}\n`,
      };
    },
  };
}

export interface DevPkiPaths {
  /** `ca_public`: what `LOCAL_CA_CERTS_PATH` points at (glob `*ca*.pem`). */
  readonly caDir: string;
  /** Intermediate + root. */
  readonly caChain: string;
  readonly intermediateCa: string;
  /** Two PEM CRLs concatenated, root's then intermediate's, like the ecosystem's. */
  readonly crl: string;
  /** The same two CRLs as DER laid end to end (`crl.der`). */
  readonly crlDer: string;
  readonly serverCert: string;
  readonly serverKey: string;
  /** CN=rasenmaeher, with a serial whose DER has a leading zero byte. */
  readonly rmCert: string;
  readonly rmKey: string;
  /** CN=DEVUSER1a, with a serial of an odd number of hex digits. */
  readonly userCert: string;
  readonly userKey: string;
}

/** Writes a ready-to-use development PKI under `dir`; when one is already there, reuses it. */
export async function writeDevPki(dir: string): Promise<DevPkiPaths> {
  const ca = `${dir}/ca_public`;
  const paths: DevPkiPaths = {
    caDir: ca,
    caChain: `${ca}/ca_chain.pem`,
    intermediateCa: `${ca}/intermediate_ca.pem`,
    crl: `${ca}/crl.pem`,
    crlDer: `${ca}/crl.der`,
    serverCert: `${dir}/server.pem`,
    serverKey: `${dir}/server.key`,
    rmCert: `${dir}/rasenmaeher.pem`,
    rmKey: `${dir}/rasenmaeher.key`,
    userCert: `${dir}/devuser.pem`,
    userKey: `${dir}/devuser.key`,
  };
  // Reuse: a running dev server and curl commands keep working across restarts.
  if ((await Promise.all(Object.values(paths).map(_exists))).every(Boolean)) return paths;
  await Deno.mkdir(ca, { recursive: true });
  const pki = await createTestPki("matrixrmapi dev");
  const server = await pki.issueLeaf({
    cn: "localhost",
    kind: "server",
    dnsNames: ["localhost", "matrixrmapi"],
    ipAddresses: ["127.0.0.1", "::1"],
  });
  const rm = await pki.issueLeaf({
    cn: "rasenmaeher",
    kind: "client",
    serialHex: randomSerialHex("high-bit"),
  });
  const user = await pki.issueLeaf({
    cn: "DEVUSER1a",
    kind: "client",
    serialHex: randomSerialHex("odd-digits"),
  });
  const crls = [
    await pki.issueCrl({ issuer: "root" }),
    await pki.issueCrl({ issuer: "intermediate" }),
  ];
  await Deno.writeTextFile(paths.caChain, pki.chainPem);
  await Deno.writeTextFile(paths.intermediateCa, pki.intermediatePem);
  await Deno.writeTextFile(paths.crl, crls.join(""));
  await Deno.writeFile(paths.crlDer, new Uint8Array(crls.flatMap((pem) => [..._pemBody(pem)])));
  for (
    const [certPath, keyPath, issued] of [
      [paths.serverCert, paths.serverKey, server],
      [paths.rmCert, paths.rmKey, rm],
      [paths.userCert, paths.userKey, user],
    ] as const
  ) {
    await Deno.writeTextFile(certPath, issued.certPem);
    await Deno.writeTextFile(keyPath, issued.keyPem, { mode: 0o600 });
  }
  return paths;
}

function _pemBody(pem: string): Uint8Array {
  const base64 = pem.replace(/-----[^-]+-----|\s/g, "");
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

function _exists(path: string): Promise<boolean> {
  return Deno.stat(path).then(() => true, (err) => {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  });
}
