/**
 * @module The CRL guard verifies as OpenSSL does: a CA certificate signed with SHA-512 (as CFSSL
 * signs its CAs) and its CRL signed with SHA-256 (as CFSSL signs CRLs), both made by OpenSSL.
 */
import assert from "node:assert/strict";
import { createMemoryLogger } from "../../src/log/logger.ts";
import { createCrlGuard } from "../../src/server/crl.ts";

async function sh(cwd: string, script: string): Promise<void> {
  const out = await new Deno.Command("bash", { args: ["-c", script], cwd, stderr: "piped" })
    .output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
}

Deno.test("a SHA-256 CRL from a CA whose own certificate is SHA-512 is accepted (CFSSL's algorithms)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "crl-hash-" });
  try {
    await sh(
      dir,
      `set -e
      openssl req -x509 -newkey rsa:2048 -sha512 -nodes -keyout ca.key -out ca.pem -subj /CN=sha512-ca -days 2 2>/dev/null
      touch index.txt; echo 01 > crlnumber
      printf '[ca]\\ndefault_ca=c\\n[c]\\ndatabase=index.txt\\ncrlnumber=crlnumber\\ndefault_md=sha256\\ndefault_crl_days=2\\n' > ca.cnf
      openssl ca -config ca.cnf -gencrl -keyfile ca.key -cert ca.pem -out crl.pem 2>/dev/null
      openssl x509 -in ca.pem -noout -text | grep -q 'sha512WithRSAEncryption'
      openssl crl -in crl.pem -noout -text | grep -q 'sha256WithRSAEncryption'
      openssl crl -in crl.pem -CAfile ca.pem -noout 2>&1 | grep -q 'verify OK'`,
    );
    const guard = await createCrlGuard({
      path: `${dir}/crl.pem`,
      caPems: [await Deno.readTextFile(`${dir}/ca.pem`)],
      log: createMemoryLogger(),
      pollMs: 60_000,
    });
    try {
      assert.deepEqual(guard.health(), { configured: true, inForce: 1, problems: [] });
    } finally {
      await guard.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
