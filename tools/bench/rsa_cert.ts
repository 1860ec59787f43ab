/**
 * @module A server certificate like the ecosystem's product certificates: an RSA-4096 key, signed
 * by an intermediate under a root (both ECDSA P-256, as the dev PKI's), made with `openssl`.
 * `tools/dev/pki.ts` makes ECDSA leaves only and keeps its CA keys in memory, so this chain has
 * its own CA; the server presents leaf + intermediate, the client trusts the root.
 */

export interface RsaServerCert {
  /** Leaf then intermediate. */
  readonly certChain: string;
  readonly key: string;
  /** The root, for the client. */
  readonly caCert: string;
}

async function _openssl(dir: string, args: string[]): Promise<void> {
  const out = await new Deno.Command("openssl", { args, cwd: dir, stdin: "null" }).output();
  if (!out.success) {
    throw new Error(`openssl ${args.join(" ")}:\n${new TextDecoder().decode(out.stderr)}`);
  }
}

/** Writes the chain under `dir` (reused when already there). */
export async function writeRsaServerCert(dir: string): Promise<RsaServerCert> {
  const paths = {
    certChain: `${dir}/server-rsa4096-chain.pem`,
    key: `${dir}/server-rsa4096.key`,
    caCert: `${dir}/rsa-root.pem`,
  };
  if (await Deno.stat(paths.certChain).then(() => true, () => false)) return paths;
  await Deno.mkdir(dir, { recursive: true });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  await Deno.writeTextFile(
    `${dir}/ext.cnf`,
    "[ca]\nbasicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\n" +
      "[leaf]\nbasicConstraints=critical,CA:false\n" +
      "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n" +
      "subjectAltName=DNS:localhost,IP:127.0.0.1\n",
  );
  await _openssl(dir, [
    "req",
    "-x509",
    ...ec,
    "-keyout",
    "rsa-root.key",
    "-out",
    "rsa-root.pem",
    "-days",
    "30",
    "-subj",
    "/O=PVARKI bench/CN=bench RSA root CA",
    "-addext",
    "basicConstraints=critical,CA:true",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  await _openssl(dir, [
    "req",
    "-new",
    ...ec,
    "-keyout",
    "rsa-int.key",
    "-out",
    "rsa-int.csr",
    "-subj",
    "/O=PVARKI bench/CN=bench RSA intermediate CA",
  ]);
  await _sign(dir, "rsa-int", "rsa-root", "ca");
  await _openssl(dir, [
    "req",
    "-new",
    "-newkey",
    "rsa:4096",
    "-nodes",
    "-keyout",
    "server-rsa4096.key",
    "-out",
    "server-rsa4096.csr",
    "-subj",
    "/CN=localhost",
  ]);
  await _sign(dir, "server-rsa4096", "rsa-int", "leaf");
  const leaf = await Deno.readTextFile(`${dir}/server-rsa4096.pem`);
  const intermediate = await Deno.readTextFile(`${dir}/rsa-int.pem`);
  await Deno.writeTextFile(paths.certChain, leaf + intermediate);
  return paths;
}

/** Signs `<name>.csr` with the CA `<ca>.pem`/`<ca>.key` into `<name>.pem`, with `ext.cnf`'s section. */
async function _sign(dir: string, name: string, ca: string, section: "ca" | "leaf"): Promise<void> {
  await _openssl(dir, [
    "x509",
    "-req",
    ...["-in", `${name}.csr`, "-CA", `${ca}.pem`, "-CAkey", `${ca}.key`, "-CAcreateserial"],
    ...["-days", "30", "-extfile", "ext.cnf", "-extensions", section, "-out", `${name}.pem`],
  ]);
}
