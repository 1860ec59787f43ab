/**
 * The service as a process on a fresh volume: it enrols its certificate with the manifest's
 * csr_jwt, its mTLS listener comes up presenting that certificate, and a renewal over mTLS
 * replaces it without a restart — past the first certificate's expiry.
 */
import assert from "node:assert/strict";
import { createTestPki } from "../../tools/dev/pki.ts";
import { startFakeRm } from "../support/fake_rm.ts";
import { startFirstRunService } from "../support/first_run.ts";
import { waitFor } from "../support/wait.ts";
import { normaliseSerial } from "../../src/x509/serial.ts";
import { parseBundle } from "../../src/certificate/verify.ts";

const DNS = "matrix.enrol.example.org";

/** The serial the mTLS listener presents to a new connection (OpenSSL as the client). */
async function presentedSerial(port: number, cert: string, key: string): Promise<string> {
  const out = await new Deno.Command("bash", {
    args: [
      "-c",
      `openssl s_client -connect 127.0.0.1:${port} -cert "$1" -key "$2" </dev/null 2>/dev/null` +
      " | openssl x509 -noout -serial",
      "_",
      cert,
      key,
    ],
    stdout: "piped",
    stderr: "null",
  }).output();
  return normaliseSerial(new TextDecoder().decode(out.stdout).trim().replace(/^serial=/, ""));
}

/** A POST as RM over a new mTLS connection, verifying our certificate by its CN (curl). */
async function curlAsRm(
  port: number,
  o: { ca: string; cert: string; key: string },
  path: string,
): Promise<string> {
  const out = await new Deno.Command("curl", {
    args: [
      "-sS",
      "-o",
      "/dev/null",
      "-w",
      "%{http_code}",
      "--resolve",
      `${DNS}:${port}:127.0.0.1`,
      "--cacert",
      o.ca,
      "--cert",
      o.cert,
      "--key",
      o.key,
      "-X",
      "GET",
      `https://${DNS}:${port}${path}`,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
}

Deno.test("a fresh volume enrols, serves mTLS with the new pair, and renews without a restart", async () => {
  const pki = await createTestPki("matrixrmapi rm");
  await using rm = await startFakeRm(pki);
  rm.validityMs = 30_000; // renewal at 20 s leaves 10 s for an RSA-4096 key on a busy machine
  const { service, dir, manifest, certPath, dev, rmCa } = await startFirstRunService({
    rm,
    pki,
    dns: DNS,
  });
  try {
    const status = async () => JSON.parse((await service.plainGet("/api/v1/status")).text);
    const first = await waitFor("enrolment", async () => {
      const s = await status();
      return s.certificate.phase === "ready" ? s.certificate : null;
    });
    assert.equal(first.cn, DNS);
    const onDisk = parseBundle(await Deno.readTextFile(certPath))[0]!;
    assert.equal(normaliseSerial(onDisk.serialNumber), first.serial);
    const port = service.mtlsPort;
    const rmClient = { ca: rmCa, cert: dev.rmCert, key: dev.rmKey };
    await waitFor(
      "the mTLS listener",
      async () => (await curlAsRm(port, rmClient, "/api/v1/healthcheck")) === "200",
    );
    assert.equal(await presentedSerial(port, dev.rmCert, dev.rmKey), first.serial);

    const renewed = await waitFor("renewal", async () => {
      const s = await status();
      return s.certificate.serial !== first.serial ? s.certificate : null;
    }, { timeoutMs: 60_000 });
    assert.ok(Date.parse(renewed.not_before) >= Date.parse(first.renew_at) - 2_000);
    assert.ok(rm.calls.renewCsr >= 1);
    assert.ok(rm.callers.includes(DNS), "renew_csr was called with the product certificate");
    await waitFor(
      "the renewed certificate on new connections",
      async () => (await presentedSerial(port, dev.rmCert, dev.rmKey)) !== first.serial,
    );
    await waitFor(
      "the first certificate's expiry",
      () => Date.now() > Date.parse(first.not_after),
      { timeoutMs: 30_000 },
    );
    assert.equal(await curlAsRm(port, rmClient, "/api/v1/healthcheck"), "200");
    const health = JSON.parse((await service.plainGet("/api/v1/healthcheck")).text);
    assert.match(health.extra, /certificate (ready|renewing)/);
    const metrics = (await service.plainGet("/metrics")).text;
    const days = Number(/^matrixrmapi_certificate_expiry_days (\S+)$/m.exec(metrics)?.[1]);
    assert.ok(days > 0 && days < 30 / 86_400, `days to expiry: ${days}`);
  } finally {
    const out = await service.stop();
    const jwt = JSON.parse(await Deno.readTextFile(manifest)).rasenmaeher.init.csr_jwt;
    assert.ok(
      !out.stderr.includes(jwt) && !out.stdout.includes(jwt),
      "the csr_jwt is never logged",
    );
    await Deno.remove(dir, { recursive: true });
  }
});
