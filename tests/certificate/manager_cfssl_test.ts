import assert from "node:assert/strict";
import { createTestPki, type TestPki } from "../../tools/dev/pki.ts";
import { type FakeRm, startFakeRm } from "../support/fake_rm.ts";
import { cfsslPki, cfsslTest } from "../support/cfssl.ts";
import { waitFor } from "../support/wait.ts";
import { createMemoryLogger } from "../../src/log/logger.ts";

type MemoryLogger = ReturnType<typeof createMemoryLogger>;
import {
  type CertificateManager,
  createCertificateManager,
  renewAt,
} from "../../src/certificate/manager.ts";
import { createRmProductApi } from "../../src/rm/product_api.ts";
import { parseBundle } from "../../src/certificate/verify.ts";
import { buildCsr, generateKeyPair, privateKeyPem } from "../../src/certificate/keys.ts";
import { swapPair } from "../../src/certificate/files.ts";
import * as x509 from "../../src/x509/x509.ts";

const CN = "matrix.example.org";

interface Harness extends AsyncDisposable {
  readonly dir: string;
  readonly pki: TestPki;
  readonly rm: FakeRm;
  readonly log: MemoryLogger;
  readonly certPath: string;
  readonly keyPath: string;
  /** Sets what the manifest's csr_jwt says (re-read at every attempt). */
  jwt: string | null;
  start(
    options?: { initBaseUri?: string; newKeys?: () => Promise<CryptoKeyPair> },
  ): CertificateManager;
}

/**
 * `realCa`: the fake RM signs through CFSSL 1.6.5 as RM does. The renewal tests keep the Deno PKI:
 * they need certificates valid for seconds, and CFSSL counts validity from NotBefore, which it
 * backdates by five minutes.
 */
async function harness(shared?: { pki: TestPki; rm: FakeRm } | "realCa"): Promise<Harness> {
  const dir = await Deno.makeTempDir({ prefix: "cert-" });
  const own: (TestPki & { close?: () => Promise<void> }) | null = shared === "realCa"
    ? await cfsslPki()
    : null;
  if (shared === "realCa") shared = undefined;
  const pki = shared?.pki ?? own ?? await createTestPki();
  const rm = shared?.rm ?? await startFakeRm(pki);
  const log = createMemoryLogger();
  const stops: Array<() => Promise<void>> = [];
  const h: Harness = {
    dir,
    pki,
    rm,
    log,
    certPath: `${dir}/public/mtlsclient.pem`,
    keyPath: `${dir}/private/mtlsclient.key`,
    jwt: null,
    start(options = {}) {
      const manager = createCertificateManager({
        paths: { certPath: h.certPath, keyPath: h.keyPath },
        cn: CN,
        csrJwt: () => Promise.resolve(h.jwt),
        rm: createRmProductApi({
          initBaseUri: options.initBaseUri ?? rm.initBaseUri,
          mtlsBaseUri: rm.baseUri,
          caPems: () => Promise.resolve([pki.chainPem]),
          timeoutMs: 5000,
        }),
        caPems: () => Promise.resolve([pki.chainPem]),
        log,
        ...(options.newKeys === undefined ? {} : { newKeys: options.newKeys }),
        retryMs: [50, 200],
        blockedRetryMs: 200,
      });
      const stop = new AbortController();
      const running = manager.run(stop.signal);
      stops.push(async () => {
        stop.abort();
        await running;
      });
      return manager;
    },
    async [Symbol.asyncDispose]() {
      for (const stop of stops) await stop();
      if (shared === undefined) await rm[Symbol.asyncDispose]();
      await own?.close?.();
      await Deno.remove(dir, { recursive: true });
    },
  };
  return h;
}

/** RM's people list over mTLS with `pair`: proves RM's mTLS host accepts the identity. */
const askRm = (h: Harness, pair: { certPem: string; keyPem: string }) =>
  createRmProductApi({
    initBaseUri: null,
    mtlsBaseUri: h.rm.baseUri,
    caPems: () => Promise.resolve([h.pki.chainPem]),
  }).peopleList(pair);
const serialOf = (pem: string) => parseBundle(pem)[0]!.serialNumber;
const exists = (path: string) => Deno.stat(path).then(() => true, () => false);

cfsslTest("a fresh volume and a csr_jwt yield a pair RM's mTLS host accepts", async () => {
  await using h = await harness("realCa");
  h.jwt = await h.rm.issueCsrJwt({ sub: CN });
  const manager = h.start();
  assert.equal(manager.current(), null);
  const identity = await waitFor("enrolment", () => manager.current());
  assert.equal(manager.status().phase, "ready");
  assert.equal(identity.facts.cn, CN);
  assert.equal((await Deno.stat(h.keyPath)).mode! & 0o777, 0o600);
  const onDisk = await Deno.readTextFile(h.certPath);
  assert.equal(onDisk, identity.certPem);
  assert.equal(parseBundle(onDisk).length, 2, "leaf and intermediate, as RM's bundle");
  const leaf = parseBundle(onDisk)[0]!;
  const eku = leaf.getExtension(x509.ExtendedKeyUsageExtension)!;
  assert.ok(eku.usages.includes(x509.ExtendedKeyUsage.clientAuth));
  const people = await askRm(h, identity);
  assert.equal(people.ok, true);
  assert.deepEqual(h.rm.callers, [CN]);
  assert.equal(h.rm.calls.signCsr, 1);
  const secret = h.jwt;
  assert.ok(!h.log.lines.some((l) => l.includes(secret)), "the csr_jwt never reaches the log");
});

cfsslTest("a pair on the volume is used as it is and the csr_jwt is never spent", async () => {
  await using h = await harness("realCa");
  h.jwt = await h.rm.issueCsrJwt();
  const first = h.start();
  const identity = await waitFor("enrolment", () => first.current());
  const second = h.start(); // a restart on the same volume
  const again = await waitFor("load", () => second.current());
  assert.equal(again.certPem, identity.certPem);
  assert.equal(h.rm.calls.signCsr, 1, "the single-use JWT went to RM once");
});

Deno.test("RM unreachable at start: enrolment waits and completes once RM answers", async () => {
  await using h = await harness();
  h.jwt = await h.rm.issueCsrJwt();
  h.rm.signing = "down";
  const manager = h.start();
  await waitFor("a failed attempt", () => manager.status().attempt >= 2);
  assert.equal(manager.status().phase, "waiting_for_rm");
  assert.match(manager.status().lastError!, /HTTP 503/);
  h.rm.signing = "normal";
  await waitFor("enrolment", () => manager.current());
  assert.equal(manager.status().lastError, null);
});

Deno.test("RM's host refusing connections is retried, not a failure", async () => {
  await using h = await harness();
  h.jwt = await h.rm.issueCsrJwt();
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = closed.addr.port;
  closed.close();
  const manager = h.start({ initBaseUri: `https://localhost:${port}/` });
  await waitFor("two attempts", () => manager.status().attempt >= 2);
  assert.equal(manager.status().phase, "waiting_for_rm");
  assert.match(manager.status().lastError!, /cannot reach/);
  assert.equal(await exists(h.certPath), false);
});

Deno.test("a csr_jwt that was already used is a clear error and no certificate is written", async () => {
  const pki = await createTestPki();
  await using rm = await startFakeRm(pki);
  const jwt = await rm.issueCsrJwt();
  {
    await using first = await harness({ pki, rm });
    first.jwt = jwt;
    const manager = first.start();
    await waitFor("first enrolment", () => manager.current());
  }
  await using h = await harness({ pki, rm });
  h.jwt = jwt;
  const manager = h.start();
  await waitFor("refusal", () => manager.status().phase === "blocked");
  const error = manager.status().lastError!;
  assert.match(error, /already used/);
  assert.match(error, /works once/, "says what the operator must do");
  assert.ok(!error.includes(jwt));
  assert.ok(!h.log.lines.some((l) => l.includes(jwt)));
  assert.equal(await exists(h.certPath), false);
  assert.equal(manager.current(), null);
});

Deno.test("an expired csr_jwt is refused before RM is asked", async () => {
  await using h = await harness();
  h.jwt = await h.rm.issueCsrJwt({ expiresInS: -60 });
  const manager = h.start();
  await waitFor("refusal", () => manager.status().phase === "blocked");
  assert.match(manager.status().lastError!, /csr_jwt expired at/);
  assert.equal(h.rm.calls.signCsr, 0);
  h.jwt = await h.rm.issueCsrJwt(); // the operator fixes the manifest: no restart needed
  await waitFor("enrolment with the new token", () => manager.current());
});

Deno.test("no csr_jwt and no certificate: blocked, saying what to provide", async () => {
  await using h = await harness();
  const manager = h.start();
  await waitFor("blocked", () => manager.status().phase === "blocked");
  assert.match(manager.status().lastError!, /no rasenmaeher\.init\.csr_jwt/);
});

cfsslTest("a certificate that does not match our key is refused and not written", async () => {
  await using h = await harness("realCa");
  h.jwt = await h.rm.issueCsrJwt();
  h.rm.signing = "wrong_key";
  const manager = h.start();
  await waitFor("a refusal", () => manager.status().lastError?.includes("does not belong"));
  assert.equal(await exists(h.certPath), false);
  assert.equal(manager.current(), null);
});

cfsslTest("RM's escaped newlines are accepted", async () => {
  await using h = await harness("realCa");
  h.jwt = await h.rm.issueCsrJwt();
  h.rm.signing = "escaped";
  const manager = h.start();
  const identity = await waitFor("enrolment", () => manager.current());
  assert.ok(!identity.certPem.includes("\\n"));
  assert.equal(parseBundle(identity.certPem).length, 2);
});

cfsslTest(
  "a key written before a crash is reused; a PKCS#1 key from the Python image works",
  async () => {
    await using h = await harness("realCa");
    const keys = await generateKeyPair();
    // What a kill -9 between the two writes leaves behind, in the Python image's PKCS#1 form.
    await Deno.mkdir(`${h.dir}/private`, { recursive: true });
    const pkcs8 = `${h.dir}/k8.pem`;
    await Deno.writeTextFile(pkcs8, await privateKeyPem(keys));
    const out = await new Deno.Command("openssl", {
      args: ["rsa", "-in", pkcs8, "-traditional", "-out", h.keyPath],
      stderr: "null",
    }).output();
    assert.ok(out.success);
    const pkcs1 = await Deno.readTextFile(h.keyPath);
    assert.match(pkcs1, /BEGIN RSA PRIVATE KEY/);
    h.jwt = await h.rm.issueCsrJwt();
    const manager = h.start();
    const identity = await waitFor("enrolment", () => manager.current());
    assert.equal(await Deno.readTextFile(h.keyPath), pkcs1, "the key was kept as it was");
    const spki = new Uint8Array(await crypto.subtle.exportKey("spki", keys.publicKey));
    assert.deepEqual(new Uint8Array(parseBundle(identity.certPem)[0]!.publicKey.rawData), spki);
    const people = await askRm(h, identity);
    assert.equal(people.ok, true, "rustls takes the PKCS#1 key");
  },
);

Deno.test("renewal at two thirds of a short validity swaps the pair and outlives the first", async () => {
  await using h = await harness();
  h.rm.validityMs = 24_000; // renewal at 16 s: room for an RSA-4096 key on a loaded machine
  h.jwt = await h.rm.issueCsrJwt();
  const manager = h.start();
  const changes: string[] = [];
  manager.onChange((i) => changes.push(i.facts.serial));
  const first = await waitFor("enrolment", () => manager.current());
  const due = renewAt(first.facts);
  assert.ok(due.getTime() - first.facts.notBefore.getTime() >= 15_900, "not at once");
  const renewed = await waitFor(
    "renewal",
    () => {
      const now = manager.current();
      return now !== null && now.facts.serial !== first.facts.serial ? now : null;
    },
    { timeoutMs: 45_000 },
  );
  assert.ok(Date.now() >= due.getTime(), "not before two thirds of the validity");
  assert.notEqual(renewed.keyPem, first.keyPem, "a fresh key");
  assert.equal(await Deno.readTextFile(h.certPath), renewed.certPem);
  assert.equal(await Deno.readTextFile(h.keyPath), renewed.keyPem);
  assert.ok(h.rm.calls.renewCsr >= 1);
  assert.deepEqual(h.rm.callers.slice(0, 1), [CN], "renew_csr authenticated with the old pair");
  assert.ok(changes.length >= 2);
  h.rm.validityMs = 3_600_000;
  await waitFor(
    "past the first certificate's expiry",
    () => Date.now() > first.facts.notAfter.getTime() + 200,
    { timeoutMs: 30_000 },
  );
  const current = manager.current()!;
  const people = await askRm(h, current);
  assert.equal(people.ok, true, "the identity still works after the first one expired");
});

Deno.test("a refused renewal keeps the old pair and makes the failure visible", async () => {
  await using h = await harness();
  // Keys made beforehand and handed out in turn: every attempt is then as fast as RM, and the
  // 15 s certificate cannot expire while a busy machine generates RSA-4096 keys.
  const pool = [await generateKeyPair(), await generateKeyPair()];
  let handed = 0;
  h.rm.validityMs = 15_000;
  h.jwt = await h.rm.issueCsrJwt();
  const manager = h.start({ newKeys: () => Promise.resolve(pool[handed++ % pool.length]!) });
  const first = await waitFor("enrolment", () => manager.current());
  h.rm.signing = "refuse"; // before two thirds (10 s) have passed
  // Two thirds of 15 s: a generous deadline for a machine busy with other tests.
  await waitFor("a refused renewal", () => manager.status().lastError?.includes("HTTP 403"), {
    timeoutMs: 60_000,
    detail: () => manager.status(),
  });
  assert.equal(manager.status().phase, "renewing");
  assert.equal(manager.current()!.certPem, first.certPem);
  assert.equal(await Deno.readTextFile(h.certPath), first.certPem);
  assert.equal(await Deno.readTextFile(h.keyPath), first.keyPem);
  assert.ok(h.log.lines.some((l) => l.includes("renewal") && l.includes('"error"')));
  h.rm.signing = "normal";
  h.rm.validityMs = 3_600_000;
  await waitFor("renewal once RM agrees", () => manager.current()!.certPem !== first.certPem, {
    timeoutMs: 60_000,
    detail: () => manager.status(),
  });
  assert.equal(manager.status().phase, "ready");
});

Deno.test("a renewal interrupted between key and certificate is completed at the next start", async () => {
  await using h = await harness();
  h.jwt = await h.rm.issueCsrJwt();
  const enrolled = h.start();
  const first = await waitFor("enrolment", () => enrolled.current());
  // Stage a renewed pair as swapPair does, then "crash" after the key's rename.
  const keys = await generateKeyPair();
  const keyPem = await privateKeyPem(keys);
  const certPem = await h.pki.signCsr(await buildCsr(keys, CN));
  await swapPair(
    { certPath: `${h.dir}/scratch.pem`, keyPath: `${h.dir}/scratch.key` },
    keyPem,
    certPem,
  );
  await Deno.writeTextFile(`${h.certPath}.next`, certPem);
  await Deno.writeTextFile(h.keyPath, keyPem); // the key's rename happened; the cert's did not
  assert.notEqual(serialOf(await Deno.readTextFile(h.certPath)), serialOf(certPem));
  const manager = h.start();
  const identity = await waitFor("load", () => manager.current());
  assert.equal(serialOf(identity.certPem), serialOf(certPem));
  assert.notEqual(identity.certPem, first.certPem);
  assert.equal(await exists(`${h.certPath}.next`), false);
  assert.equal(h.rm.calls.signCsr, 1, "no second enrolment");
});
