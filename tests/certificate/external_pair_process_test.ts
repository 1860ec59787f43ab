/**
 * @module The product pair kept outside the data volume (a read-only Secret), with the service run
 * as production runs it (`deno task start`'s permission set): the mTLS listener comes up with it,
 * a changed pair is presented without a restart, and nothing is written beside it.
 */
import assert from "node:assert/strict";
import { startServiceProcess } from "../support/service.ts";
import { writeDevPki } from "../../tools/dev/pki.ts";
import { waitFor } from "../support/wait.ts";
import { normaliseSerial } from "../../src/x509/serial.ts";

/** The serial the listener presents to a new connection (OpenSSL as the client). */
async function presentedSerial(port: number): Promise<string> {
  const out = await new Deno.Command("bash", {
    args: [
      "-c",
      `openssl s_client -connect 127.0.0.1:${port} </dev/null 2>/dev/null | openssl x509 -noout -serial`,
    ],
    stdout: "piped",
    stderr: "null",
  }).output();
  return normaliseSerial(new TextDecoder().decode(out.stdout).trim().replace(/^serial=/, ""));
}

async function serialOf(path: string): Promise<string> {
  const out = await new Deno.Command("openssl", {
    args: ["x509", "-noout", "-serial", "-in", path],
    stdout: "piped",
  }).output();
  return normaliseSerial(new TextDecoder().decode(out.stdout).trim().replace(/^serial=/, ""));
}

async function listing(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) out.push(e.name);
  return out.sort();
}

Deno.test("a product pair outside the data volume is served, watched and never written, under the production permission set", async () => {
  const dir = await Deno.makeTempDir({ prefix: "external-process-" });
  const secret = `${dir}/secret`;
  const pki = await writeDevPki(`${dir}/pki`);
  const other = await writeDevPki(`${dir}/pki-renewed`);
  await Deno.mkdir(secret);
  await Deno.copyFile(pki.serverCert, `${secret}/tls.crt`);
  await Deno.copyFile(pki.serverKey, `${secret}/tls.key`);
  const service = await startServiceProcess({
    dir,
    env: {
      CLIENT_CERT_PATH: `${secret}/tls.crt`,
      CLIENT_KEY_PATH: `${secret}/tls.key`,
      MTLS_SERVER_CERT_PATH: `${secret}/tls.crt`,
      MTLS_SERVER_KEY_PATH: `${secret}/tls.key`,
    },
  });
  try {
    const status = async () => JSON.parse((await service.plainGet("/api/v1/status")).text);
    const cert = await waitFor("the external pair in use", async () => {
      const s = await status();
      return s.certificate.phase === "ready" ? s.certificate : null;
    });
    assert.equal(cert.managed_by, "external");
    await waitFor("the mTLS listener", async () => {
      const s = await status();
      return s.mtls_listener.phase === "listening" ? true : null;
    });
    const answer = await service.call("rm", "/api/v1/users/created", {
      uuid: "6f1c1b36-7c1b-4f54-9d86-3f3c2d8e0a11",
      callsign: "EXT01a",
      x509cert: "",
    });
    assert.ok(answer.status === 200 || answer.status === 503, `RM is answered (${answer.status})`);
    assert.equal(await presentedSerial(service.mtlsPort), await serialOf(pki.serverCert));

    // Whoever manages the Secret renews it.
    await Deno.copyFile(other.serverCert, `${secret}/tls.crt`);
    await Deno.copyFile(other.serverKey, `${secret}/tls.key`);
    const renewed = await serialOf(other.serverCert);
    await waitFor(
      "the renewed pair on the listener",
      async () => (await presentedSerial(service.mtlsPort)) === renewed ? true : null,
      { timeoutMs: 40_000, intervalMs: 500 },
    );
    assert.deepEqual(await listing(secret), ["tls.crt", "tls.key"], "nothing staged or set aside");
  } finally {
    const out = await service.stop();
    assert.doesNotMatch(out.stderr + out.stdout, /Requires (read|write) access/);
    await Deno.remove(dir, { recursive: true });
  }
});
