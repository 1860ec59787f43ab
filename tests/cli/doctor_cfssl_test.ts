/** @module `doctor` on a good set-up and on one with each kind of problem. */
import assert from "node:assert/strict";
import { diagnose, exitCodeOf, type Finding } from "../../src/cli/doctor.ts";
import { testConfig } from "../support/config.ts";
import { createTestPki, writeDevPki } from "../../tools/dev/pki.ts";
import { runMain } from "../support/process.ts";
import { cfsslPki, cfsslTest } from "../support/cfssl.ts";

const of = (findings: Finding[], check: string) => findings.filter((f) => f.check === check);

async function setUp() {
  const dir = await Deno.makeTempDir({ prefix: "doctor-" });
  const pki = await writeDevPki(`${dir}/pki`);
  await Deno.mkdir(`${dir}/data/oidc`, { recursive: true });
  const env = {
    PERSISTENT_DATA_PATH: `${dir}/data`,
    LOCAL_CA_CERTS_PATH: pki.caDir,
    MTLS_CRL_PATH: pki.crl,
    MTLS_SERVER_CERT_PATH: pki.serverCert,
    MTLS_SERVER_KEY_PATH: pki.serverKey,
  };
  return { dir, pki, env };
}

Deno.test("doctor: a good set-up is ok in every check", async () => {
  const { dir, env } = await setUp();
  try {
    const findings = await diagnose(await testConfig(env));
    assert.deepEqual(findings.filter((f) => f.severity !== "ok"), []);
    for (
      const check of ["volumes", "mTLS server certificate", "CA", "CRL", "callers", "login client"]
    ) {
      assert.ok(of(findings, check).length > 0, `${check} was checked`);
    }
    assert.equal(exitCodeOf(findings), 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("doctor: each kind of problem is found and says what to change", async () => {
  const { dir, pki, env } = await setUp();
  try {
    // A client-only certificate as the server pair, as RM's CFSSL `client` profile issues it.
    const other = await createTestPki("doctor other");
    const client = await other.issueLeaf({ cn: "matrix.example.org", kind: "client" });
    await Deno.writeTextFile(`${dir}/client.pem`, client.certPem);
    // A forged CRL, a stale redirect URI and a far too wide proxy list.
    const forged = await other.issueCrl({ issuer: "intermediate" });
    await Deno.writeTextFile(`${dir}/crl.pem`, (await Deno.readTextFile(pki.crl)) + forged);
    await Deno.writeTextFile(
      `${dir}/data/oidc/registration.json`,
      JSON.stringify({
        redirect_uris: ["https://synapse.example.org:443/_synapse/client/oidc/callback"],
      }),
    );
    const findings = await diagnose(
      await testConfig({
        ...env,
        MTLS_SERVER_CERT_PATH: `${dir}/client.pem`,
        MTLS_CRL_PATH: `${dir}/crl.pem`,
        MTLS_TRUST_PROXY_HEADER: "true",
        MTLS_TRUSTED_PROXIES: "10.0.0.0/8",
      }),
    );
    const said = (check: string) =>
      of(findings, check).map((f) => `${f.severity} ${f.message}`).join("\n");
    assert.match(
      said("mTLS server certificate"),
      /^fail .*no serverAuth.*Set MTLS_SERVER_CERT_PATH/,
    );
    assert.match(said("CRL"), /^fail .*(has no trusted CA|does not verify)/);
    assert.match(said("login client"), /^warn .*do not include Synapse's callback/);
    assert.match(said("callers"), /warn MTLS_TRUSTED_PROXIES 10\.0\.0\.0\/8 trusts many addresses/);
    assert.equal(exitCodeOf(findings), 2);
    await Deno.mkdir(`${dir}/fresh`);
    const nobody = await diagnose(
      await testConfig({ ...env, MTLS_ENABLED: "false", PERSISTENT_DATA_PATH: `${dir}/fresh` }),
    );
    assert.match(
      of(nobody, "volumes").map((f) => `${f.severity} ${f.message}`).join(),
      /warn .*oidc" does not exist.*prepare-volumes/,
    );
    assert.match(
      of(nobody, "callers").map((f) => f.message).join(),
      /no way for RM to be recognised/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("doctor: the command prints one line per finding and exits with the worst", async () => {
  const { dir, env } = await setUp();
  try {
    const out = await runMain(["doctor"], {
      ...env,
      SYNAPSE_REGISTRATION_SECRET: "doctor-secret",
      KRAFTWERK_MANIFEST: `${dir}/missing.json`,
      MTLS_CRL_PATH: "",
    });
    assert.equal(out.code, 1, out.stderr);
    const text = out.stdout + out.stderr;
    assert.match(text, /^WARN CRL: no MTLS_CRL_PATH/m);
    assert.match(text, /^ok {3}CA: /m);
    assert.doesNotMatch(text, /doctor-secret/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

cfsslTest(
  "doctor: OCSP asks the product certificate's own responder (CFSSL's), and says when it cannot",
  async () => {
    const { dir, env } = await setUp();
    await using ca = await cfsslPki();
    try {
      const product = await ca.issueLeaf({ cn: "matrix.example.org", kind: "client" });
      await ca.ocsp.refresh();
      const caDir = `${dir}/cfssl_ca`;
      await Deno.mkdir(caDir);
      await Deno.writeTextFile(`${caDir}/ca_chain.pem`, ca.chainPem);
      await Deno.mkdir(`${dir}/data/public`, { recursive: true });
      await Deno.writeTextFile(`${dir}/data/public/mtlsclient.pem`, product.certPem);
      const config = await testConfig({ ...env, LOCAL_CA_CERTS_PATH: caDir });
      const ocsp = async () => of(await diagnose(config), "OCSP");
      assert.deepEqual((await ocsp()).map((f) => [f.severity, f.message]), [
        ["ok", `${ca.ocsp.url} answers (the product certificate: good)`],
      ]);
      ca.ocsp.mode = "http-error";
      const [down] = await ocsp();
      assert.equal(down?.severity, "warn");
      assert.match(down?.message ?? "", /HTTP 503 — the CRL decides meanwhile$/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
