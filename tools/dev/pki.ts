/**
 * @module A throwaway PKI shaped like the ecosystem's CFSSL (root → intermediate → leaves, a
 * CRL per CA), for development and tests: ECDSA P-256 through Web Crypto and @peculiar/x509.
 */
import * as x509 from "../../src/server/x509.ts";
import { AsnConvert } from "@peculiar/asn1-schema";
import { Certificate, Version } from "@peculiar/asn1-x509";

const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const SIGN = { name: "ECDSA", hash: "SHA-256" } as const;
const DAY = 86_400_000;

export interface Issued {
  readonly certPem: string;
  readonly keyPem: string;
  /** Lower-case hex as written into the certificate. */
  readonly serialHex: string;
}

export interface LeafOptions {
  readonly cn: string;
  readonly o?: string;
  readonly kind: "server" | "client";
  /** Hex serial; random when absent. */
  readonly serialHex?: string;
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  /** Issue an X.509 v1 certificate (no extensions), which TLS clients must not be. */
  readonly v1?: boolean;
}

interface Ca {
  readonly cert: x509.X509Certificate;
  readonly keys: CryptoKeyPair;
}

export interface TestPki {
  readonly rootPem: string;
  readonly intermediatePem: string;
  /** Intermediate then root, like `/ca_public/ca_chain.pem`. */
  readonly chainPem: string;
  issueLeaf(options: LeafOptions): Promise<Issued>;
  /** A CRL of `issuer` revoking `revokedSerials` (hex), as PEM. */
  issueCrl(
    options: {
      issuer: "root" | "intermediate";
      revokedSerials?: readonly string[];
      nextUpdate?: Date;
      signWithForeignKey?: boolean;
    },
  ): Promise<string>;
  /** A CA and a client certificate that have nothing to do with this PKI. */
  foreignClient(cn: string): Promise<Issued & { caPem: string }>;
}

const _keys = () =>
  crypto.subtle.generateKey(ALG, true, ["sign", "verify"]) as Promise<CryptoKeyPair>;

async function _keyPem(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await crypto.subtle.exportKey("pkcs8", key), "PRIVATE KEY");
}

function _randomSerial(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(9));
  bytes[0] = (bytes[0]! & 0x3f) | 0x10; // positive, and no leading zero byte
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function _ca(name: string, parent: Ca | null, pathLength?: number): Promise<Ca> {
  const keys = await _keys();
  const extensions = [
    new x509.BasicConstraintsExtension(true, pathLength, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
  ];
  const common = {
    serialNumber: _randomSerial(),
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + 365 * DAY),
    signingAlgorithm: SIGN,
  };
  const cert = parent === null
    ? await x509.X509CertificateGenerator.createSelfSigned({ ...common, name, keys, extensions })
    : await x509.X509CertificateGenerator.create({
      ...common,
      subject: name,
      issuer: parent.cert.subject,
      publicKey: keys.publicKey,
      signingKey: parent.keys.privateKey,
      extensions: [
        ...extensions,
        await x509.AuthorityKeyIdentifierExtension.create(parent.keys.publicKey),
      ],
    });
  return { cert, keys };
}

async function _leaf(ca: Ca, o: LeafOptions): Promise<Issued> {
  const keys = await _keys();
  const serialHex = (o.serialHex ?? _randomSerial()).toLowerCase();
  const names = [
    ...(o.dnsNames ?? []).map((value) => ({ type: "dns" as const, value })),
    ...(o.ipAddresses ?? []).map((value) => ({ type: "ip" as const, value })),
  ];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialHex,
    // Stored most general first, as CAs (CFSSL included) write subjects.
    subject: `${o.o ? `O=${o.o}, ` : ""}CN=${o.cn}`,
    issuer: ca.cert.subject,
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + 30 * DAY),
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    signingAlgorithm: SIGN,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension(
        [o.kind === "server" ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth],
      ),
      await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey),
      ...(names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : []),
    ],
  });
  const certPem = o.v1 ? await _asVersion1(cert, ca) : cert.toString("pem");
  return { certPem, keyPem: await _keyPem(keys.privateKey), serialHex };
}

// @peculiar/x509 always writes v3; rewrite the TBSCertificate as v1 (no extensions) and re-sign.
async function _asVersion1(cert: x509.X509Certificate, ca: Ca): Promise<string> {
  const asn = AsnConvert.parse(cert.rawData, Certificate);
  asn.tbsCertificate.version = Version.v1;
  delete asn.tbsCertificate.extensions;
  const tbs = AsnConvert.serialize(asn.tbsCertificate);
  const raw = await crypto.subtle.sign(SIGN, ca.keys.privateKey, tbs);
  const der = new x509.AsnEcSignatureFormatter().toAsnSignature(SIGN, raw);
  if (der === null) throw new Error("Cannot encode the ECDSA signature of a v1 certificate");
  asn.signatureValue = der;
  return x509.PemConverter.encode(AsnConvert.serialize(asn), "CERTIFICATE");
}

/** Creates a fresh root and intermediate CA with issuing helpers. */
export async function createTestPki(name = "matrixrmapi test"): Promise<TestPki> {
  const root = await _ca(`CN=${name} root CA, O=PVARKI dev`, null);
  const intermediate = await _ca(`CN=${name} intermediate CA, O=PVARKI dev`, root, 0);
  const rootPem = root.cert.toString("pem");
  const intermediatePem = intermediate.cert.toString("pem");
  return {
    rootPem,
    intermediatePem,
    chainPem: `${intermediatePem}\n${rootPem}\n`,
    issueLeaf: (options) => _leaf(intermediate, options),
    async issueCrl({ issuer, revokedSerials = [], nextUpdate, signWithForeignKey }) {
      const ca = issuer === "root" ? root : intermediate;
      const signingKey = signWithForeignKey ? (await _keys()).privateKey : ca.keys.privateKey;
      const crl = await x509.X509CrlGenerator.create({
        issuer: ca.cert.subject,
        thisUpdate: new Date(Date.now() - 60_000),
        nextUpdate: nextUpdate ?? new Date(Date.now() + 7 * DAY),
        signingAlgorithm: SIGN,
        signingKey,
        entries: revokedSerials.map((serialNumber) => ({
          serialNumber,
          revocationDate: new Date(),
        })),
      });
      return crl.toString("pem");
    },
    async foreignClient(cn) {
      const foreignRoot = await _ca("CN=foreign root CA", null);
      const issued = await _leaf(foreignRoot, { cn, kind: "client" });
      return { ...issued, caPem: foreignRoot.cert.toString("pem") };
    },
  };
}

export interface DevPkiPaths {
  readonly caDir: string;
  readonly caChain: string;
  readonly crl: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly rmCert: string;
  readonly rmKey: string;
  readonly userCert: string;
  readonly userKey: string;
}

/** Writes a ready-to-use development PKI under `dir` once; later calls reuse it. */
export async function writeDevPki(dir: string): Promise<DevPkiPaths> {
  const paths: DevPkiPaths = {
    caDir: `${dir}/ca_public`,
    caChain: `${dir}/ca_public/ca_chain.pem`,
    crl: `${dir}/ca_public/crl.pem`,
    serverCert: `${dir}/server.pem`,
    serverKey: `${dir}/server.key`,
    rmCert: `${dir}/rasenmaeher.pem`,
    rmKey: `${dir}/rasenmaeher.key`,
    userCert: `${dir}/devuser.pem`,
    userKey: `${dir}/devuser.key`,
  };
  if (await _exists(paths.userKey)) return paths;
  await Deno.mkdir(paths.caDir, { recursive: true });
  const pki = await createTestPki("matrixrmapi dev");
  const server = await pki.issueLeaf({
    cn: "localhost",
    kind: "server",
    dnsNames: ["localhost"],
    ipAddresses: ["127.0.0.1", "::1"],
  });
  const rm = await pki.issueLeaf({ cn: "rasenmaeher", kind: "client" });
  const user = await pki.issueLeaf({ cn: "DEVUSER1a", kind: "client" });
  const crl = (await pki.issueCrl({ issuer: "root" })) + "\n" +
    (await pki.issueCrl({ issuer: "intermediate" }));
  await Deno.writeTextFile(paths.caChain, pki.chainPem);
  await Deno.writeTextFile(`${paths.caDir}/intermediate_ca.pem`, pki.intermediatePem);
  await Deno.writeTextFile(paths.crl, crl);
  for (
    const [cert, key, issued] of [
      [paths.serverCert, paths.serverKey, server],
      [paths.rmCert, paths.rmKey, rm],
      [paths.userCert, paths.userKey, user],
    ] as const
  ) {
    await Deno.writeTextFile(cert, issued.certPem);
    await Deno.writeTextFile(key, issued.keyPem, { mode: 0o600 });
  }
  return paths;
}

async function _exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}
