/**
 * @module Enrolment and renewal against RM's real CA: the fake RM signs through CFSSL 1.6.5 with the
 * ecosystem's `client` profile (clientAuth only, SHA-512, NotBefore backdated 5 minutes, no SAN)
 * and answers as RM does (`ca` the intermediate only, leaf + intermediate from `cfssl bundle`).
 */
import assert from "node:assert/strict";
import { createMemoryLogger } from "../../src/log/logger.ts";
import {
  type CertificateManager,
  createCertificateManager,
} from "../../src/certificate/manager.ts";
import { createRmProductApi } from "../../src/rm/product_api.ts";
import { parseBundle } from "../../src/certificate/verify.ts";
import * as x509 from "../../src/x509/x509.ts";
import { type FakeRm, startFakeRm } from "../support/fake_rm.ts";
import { type CfsslPki, cfsslPki, cfsslTest } from "../support/cfssl.ts";
import { waitFor } from "../support/wait.ts";

const CN = "matrix.example.org";

interface Setup {
  readonly pki: CfsslPki;
  readonly rm: FakeRm;
  readonly log: ReturnType<typeof createMemoryLogger>;
  readonly certPath: string;
  start(): CertificateManager;
}

function enrolmentTest(name: string, body: (s: Setup) => Promise<void>): void {
  cfsslTest(name, async () => {
    await using pki = await cfsslPki();
    await using rm = await startFakeRm(pki);
    const dir = await Deno.makeTempDir({ prefix: "cfssl-cert-" });
    const log = createMemoryLogger();
    const stops: (() => Promise<void>)[] = [];
    const certPath = `${dir}/public/mtlsclient.pem`;
    // What LOCAL_CA_CERTS_PATH holds in the ecosystem: ca_chain.pem (intermediate + root).
    const caPems = () => Promise.resolve([pki.chainPem]);
    try {
      await body({
        pki,
        rm,
        log,
        certPath,
        start() {
          const manager = createCertificateManager({
            paths: { certPath, keyPath: `${dir}/private/mtlsclient.key` },
            cn: CN,
            csrJwt: () => rm.issueCsrJwt({ sub: CN }),
            rm: createRmProductApi({
              initBaseUri: rm.initBaseUri,
              mtlsBaseUri: rm.baseUri,
              caPems,
              timeoutMs: 10_000,
            }),
            caPems,
            log,
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
      });
    } finally {
      for (const stop of stops) await stop();
      await Deno.remove(dir, { recursive: true });
    }
  });
}

enrolmentTest(
  "enrolment through CFSSL's client profile gives a client-only, SHA-512, backdated pair RM accepts",
  async (s) => {
    const before = Date.now();
    const manager = s.start();
    const identity = await waitFor("enrolment", () => manager.current(), { timeoutMs: 30_000 });
    const [leaf, intermediate, ...rest] = parseBundle(await Deno.readTextFile(s.certPath));
    assert.equal(rest.length, 0, "leaf + intermediate, as cfssl bundle gives them");
    assert.equal(intermediate!.subject, new x509.X509Certificate(s.pki.intermediatePem).subject);
    const usages = [...leaf!.getExtension(x509.ExtendedKeyUsageExtension)!.usages].map(String);
    assert.deepEqual(usages, [x509.ExtendedKeyUsage.clientAuth], "the profile replaced the CSR's");
    assert.equal(leaf!.getExtension(x509.SubjectAlternativeNameExtension), null);
    assert.deepEqual(leaf!.signatureAlgorithm, {
      name: "RSASSA-PKCS1-v1_5",
      hash: { name: "SHA-512" },
    });
    const backdated = before - leaf!.notBefore.getTime();
    assert.ok(backdated >= 4 * 60_000 && backdated <= 6 * 60_000, `backdated ${backdated} ms`);
    assert.equal(identity.facts.cn, CN);
    const people = await createRmProductApi({
      initBaseUri: null,
      mtlsBaseUri: s.rm.baseUri,
      caPems: () => Promise.resolve([s.pki.chainPem]),
    }).peopleList(identity);
    assert.equal(people.ok, true);
  },
);

enrolmentTest(
  "renewal through CFSSL's renew path swaps the pair (a validity CFSSL counts from its backdated start)",
  async (s) => {
    // 7.5 minutes from a NotBefore 5–6 minutes back: two thirds have passed at once.
    s.rm.validityMs = 450_000;
    const manager = s.start();
    const first = await waitFor("enrolment", () => manager.current(), { timeoutMs: 30_000 });
    s.rm.validityMs = 1008 * 3_600_000; // the profile's own expiry for the renewed one
    const renewed = await waitFor("renewal", () => {
      const now = manager.current();
      return now !== null && now.facts.serial !== first.facts.serial ? now : null;
    }, { timeoutMs: 60_000 });
    assert.ok(s.rm.calls.renewCsr >= 1);
    assert.ok(renewed.facts.notAfter.getTime() - Date.now() > 1000 * 3_600_000);
    assert.equal(manager.status().phase, "ready");
  },
);
