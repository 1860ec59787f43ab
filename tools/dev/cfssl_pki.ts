/**
 * @module A test PKI made by real CFSSL 1.6.5 as docker-rasenmaeher-cfssl makes it: RSA-4096 root
 * and intermediate (SHA-512 signatures), the ecosystem's signing profiles with an OCSP URL in every
 * leaf, a certificate database, `cfssl crl` (SHA-256) for both CAs concatenated, and `cfssl
 * ocspserve` behind a counting proxy as the OCSP responder. The CA is made once per profile and
 * kept in `.local/cfssl-ca/`.
 */
import * as x509 from "../../src/x509/x509.ts";
import type { CfsslBins } from "../cfssl/install.ts";
import { runCfssl as _cfssl } from "../cfssl/run.ts";
import type { CrlOptions, Issued, LeafOptions, TestPki } from "./pki.ts";
import { createCaDatabase, revokeInDatabase } from "./cfssl_db.ts";
import { type OcspProxy, startOcspProxy } from "./cfssl_ocsp.ts";

export type { OcspProxy };

/** A CFSSL-made PKI; close it to stop its responder and remove its files. */
export interface CfsslPki extends TestPki, AsyncDisposable {
  /** CFSSL's OCSP responder certificate (profile `ocsp`: digital signature, OCSP signing). */
  readonly responderPem: string;
  /** The URL in every leaf's AIA: the counting proxy in front of `cfssl ocspserve`. */
  readonly ocsp: OcspProxy;
  /** Revokes in the database and refreshes the OCSP answers, as CFSSL's revoke API does. */
  revoke(certPem: string, reason?: string): Promise<void>;
  /** Root's CRL then the intermediate's (`cfssl crl` from the database), as `/ca_public/crl.pem`. */
  crlPem(): Promise<string>;
  /** `cfssl ocspsign` for `certPem` with another responder pair (a forgery, a wrong signer). */
  ocspSign(
    certPem: string,
    status: "good" | "revoked",
    responder: { certPem: string; keyPem: string },
  ): Promise<Uint8Array>;
  /** Issues a leaf by the CFSSL profile named (e.g. `ocsp` for a second responder). */
  issueByProfile(cn: string, profile: string): Promise<Issued>;
  close(): Promise<void>;
}

const CA_NAME = "matrixrmapi-test";
const PROFILES = {
  ocsp: { usages: ["digital signature", "ocsp signing"], expiry: "2016h" },
  client: {
    expiry: "1008h",
    usages: ["signing", "digital signature", "key encipherment", "client auth"],
  },
  intermediate_ca: {
    ca_constraint: { is_ca: true, max_path_len: 0, max_path_len_zero: true },
    expiry: "2016h",
    usages: [
      "signing",
      "digital signature",
      "key encipherment",
      "cert sign",
      "crl sign",
      "server auth",
      "client auth",
    ],
  },
  peer: {
    expiry: "1008h",
    usages: ["signing", "digital signature", "key encipherment", "client auth", "server auth"],
  },
};
const CSRS = {
  root: { CN: `${CA_NAME} BaseCA`, key: { algo: "rsa", size: 4096 }, names: [{ OU: "Base CA" }] },
  intermediate: {
    CN: CA_NAME,
    ca: { expiry: "2016h" },
    key: { algo: "rsa", size: 4096 },
    names: [{ OU: "RASENMAEHER" }],
  },
  ocsp: { CN: `${CA_NAME} OCSP`, key: { algo: "rsa", size: 4096 }, names: [{ OU: "RASENMAEHER" }] },
};

/** The files of a CA made once: root, intermediate and responder, each with its key. */
interface CaFiles {
  readonly dir: string;
}

/** Creates the PKI: the cached CA, a fresh certificate database, the responder's proxy. */
export async function createCfsslPki(bins: CfsslBins): Promise<CfsslPki> {
  const ca = await _cachedCa(bins);
  const dir = await Deno.makeTempDir({ prefix: "cfssl-pki-" });
  const db = await createCaDatabase(dir);
  const ocsp = startOcspProxy({ bins, dbConfig: db.config, dir, ca: ca.dir });
  const run = (args: string[], stdin?: string) => _cfssl(bins, args, dir, stdin);
  const config = async (expiry?: string) => {
    const path = `${dir}/config-${crypto.randomUUID()}.json`;
    const defaults = { expiry: "1008h", ocsp_url: ocsp.url, crl_url: `${ocsp.base}/ca/crl.pem` };
    const profiles = structuredClone(PROFILES) as Record<string, { expiry: string }>;
    if (expiry !== undefined) { for (const p of Object.values(profiles)) p.expiry = expiry; }
    await Deno.writeTextFile(path, JSON.stringify({ signing: { default: defaults, profiles } }));
    return path;
  };
  const read = (name: string) => Deno.readTextFile(`${ca.dir}/${name}`);
  const [rootPem, intermediatePem, responderPem] = await Promise.all(
    ["root.pem", "intermediate.pem", "ocsp.pem"].map(read),
  ) as [string, string, string];

  async function sign(csrPem: string, profile: string, hosts: string[], expiry?: string) {
    const csrPath = `${dir}/${crypto.randomUUID()}.csr`;
    await Deno.writeTextFile(csrPath, csrPem);
    const out = await run([
      "sign",
      `-config=${await config(expiry)}`,
      `-db-config=${db.config}`,
      `-ca=${ca.dir}/intermediate.pem`,
      `-ca-key=${ca.dir}/intermediate-key.pem`,
      `-profile=${profile}`,
      ...(hosts.length > 0 ? [`-hostname=${hosts.join(",")}`] : []),
      csrPath,
    ]);
    return (JSON.parse(out) as { cert: string }).cert;
  }

  async function issueLeaf(options: LeafOptions): Promise<Issued> {
    if (options.v1 || options.serialHex !== undefined) {
      throw new Error("CFSSL cannot issue X.509 v1 certificates or chosen serials: use pki.ts");
    }
    const { csrPem, keyPem } = await _csr(options.cn, options.o);
    const hosts = [...(options.dnsNames ?? []), ...(options.ipAddresses ?? [])];
    const certPem = await sign(csrPem, options.kind === "server" ? "peer" : "client", hosts);
    return { certPem, keyPem, serialHex: new x509.X509Certificate(certPem).serialNumber };
  }

  async function close(): Promise<void> {
    await ocsp.close();
    await Deno.remove(dir, { recursive: true });
  }

  async function dumpCrl(which: "root" | "intermediate"): Promise<string> {
    const b64 = await run([
      "crl",
      `-db-config=${db.config}`,
      `-ca=${ca.dir}/${which}.pem`,
      `-ca-key=${ca.dir}/${which}-key.pem`,
      "-expiry=1800s", // ocsprest's crl_lifetime
    ]);
    return x509.PemConverter.encode(_unb64(b64.trim()), "X509 CRL") + "\n";
  }

  return {
    rootPem,
    intermediatePem,
    chainPem: `${intermediatePem}${rootPem}`,
    responderPem,
    ocsp,
    issueLeaf,
    issueByProfile: async (cn, profile) => {
      const { csrPem, keyPem } = await _csr(cn);
      const certPem = await sign(csrPem, profile, []);
      return { certPem, keyPem, serialHex: new x509.X509Certificate(certPem).serialNumber };
    },
    async signCsr(csrPem, options = {}) {
      // CFSSL counts the profile's expiry from the backdated NotBefore, as it does in RM.
      const expiry = options.validityMs === undefined
        ? undefined
        : `${Math.round(options.validityMs / 1000)}s`;
      const leafPem = await sign(csrPem, "client", [], expiry);
      const leafPath = `${dir}/${crypto.randomUUID()}.pem`;
      await Deno.writeTextFile(leafPath, leafPem);
      const bundled = await run([
        "bundle",
        `-ca-bundle=${ca.dir}/root.pem`,
        `-int-bundle=${ca.dir}/intermediate.pem`,
        `-cert=${leafPath}`,
      ]);
      return (JSON.parse(bundled) as { bundle: string }).bundle;
    },
    async issueCrl(options: CrlOptions) {
      if (options.signWithForeignKey || options.thisUpdate || options.nextUpdate) {
        throw new Error("CFSSL dates and signs its own CRLs: use pki.ts for forged or dated ones");
      }
      for (const serial of options.revokedSerials ?? []) {
        await revokeInDatabase(bins, db, serial, "keyCompromise");
      }
      return await dumpCrl(options.issuer);
    },
    foreignClient() {
      throw new Error("an impostor CA is not CFSSL's to make: use pki.ts");
    },
    async revoke(certPem, reason = "keyCompromise") {
      await revokeInDatabase(bins, db, new x509.X509Certificate(certPem).serialNumber, reason);
      await ocsp.refresh();
    },
    crlPem: async () => (await dumpCrl("root")) + (await dumpCrl("intermediate")),
    async ocspSign(certPem, status, responder) {
      const paths = [`${dir}/sign-cert.pem`, `${dir}/resp.pem`, `${dir}/resp-key.pem`];
      await Deno.writeTextFile(paths[0]!, certPem);
      await Deno.writeTextFile(paths[1]!, responder.certPem);
      await Deno.writeTextFile(paths[2]!, responder.keyPem);
      const out = await run([
        "ocspsign",
        `-ca=${ca.dir}/intermediate.pem`,
        `-responder=${paths[1]}`,
        `-responder-key=${paths[2]}`,
        `-cert=${paths[0]}`,
        `-status=${status}`,
        ...(status === "revoked" ? ["-reason=1"] : []),
      ]);
      return _unb64((JSON.parse(out) as { ocspResponse: string }).ocspResponse);
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** A P-256 key and a CSR for `cn` (RM's people and products differ in key, not in profile). */
async function _csr(cn: string, o?: string): Promise<{ csrPem: string; keyPem: string }> {
  const alg = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
  const keys = await crypto.subtle.generateKey(alg, true, ["sign", "verify"]) as CryptoKeyPair;
  const name: x509.JsonNameParams = [
    ...(o === undefined ? [] : [{ "2.5.4.10": [{ utf8String: o }] }]),
    { "2.5.4.3": [{ utf8String: cn }] },
  ];
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: new x509.Name(name),
    keys,
    signingAlgorithm: alg,
  });
  const pkcs8 = await crypto.subtle.exportKey("pkcs8", keys.privateKey);
  return { csrPem: csr.toString("pem"), keyPem: x509.PemConverter.encode(pkcs8, "PRIVATE KEY") };
}

/** The CA for these profiles, made by CFSSL once and kept under a hash of what made it. */
async function _cachedCa(bins: CfsslBins): Promise<CaFiles> {
  const recipe = JSON.stringify({ PROFILES, CSRS, v: 1 });
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(recipe)),
  );
  const hash = Array.from(digest.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join("");
  const root = new URL("../../.local/cfssl-ca", import.meta.url).pathname;
  const dir = `${root}/${hash}`;
  if (await Deno.stat(`${dir}/ocsp-key.pem`).then(() => true, () => false)) return { dir };
  await Deno.mkdir(root, { recursive: true });
  const work = await Deno.makeTempDir({ dir: root, prefix: "making-" });
  const run = (args: string[], stdin?: string) => _cfssl(bins, args, work, stdin);
  const bare = async (name: string, json: string) => {
    const files = JSON.parse(json) as { cert?: string; key?: string; csr?: string };
    if (files.cert) await Deno.writeTextFile(`${work}/${name}.pem`, files.cert);
    if (files.key) await Deno.writeTextFile(`${work}/${name}-key.pem`, files.key, { mode: 0o600 });
    if (files.csr) await Deno.writeTextFile(`${work}/${name}.csr`, files.csr);
  };
  const config = `${work}/config.json`;
  await Deno.writeTextFile(
    config,
    JSON.stringify({ signing: { default: { expiry: "1008h" }, profiles: PROFILES } }),
  );
  // As cfssl-init.sh: two self-signed CAs, the second then signed by the first.
  await bare("root", await run(["gencert", "-initca", "-"], JSON.stringify(CSRS.root)));
  await bare(
    "intermediate",
    await run(["gencert", "-initca", "-"], JSON.stringify(CSRS.intermediate)),
  );
  await bare(
    "intermediate",
    await run([
      "sign",
      "-ca=root.pem",
      "-ca-key=root-key.pem",
      `-config=${config}`,
      "-profile=intermediate_ca",
      "intermediate.csr",
    ]),
  );
  await bare(
    "ocsp",
    await run([
      "gencert",
      "-ca=intermediate.pem",
      "-ca-key=intermediate-key.pem",
      `-config=${config}`,
      "-profile=ocsp",
      "-",
    ], JSON.stringify(CSRS.ocsp)),
  );
  try {
    await Deno.rename(work, dir);
  } catch {
    await Deno.remove(work, { recursive: true }); // another run made it first: use that one
  }
  return { dir };
}

function _unb64(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}
