/**
 * @module readOcspResponse() against answers made by CFSSL 1.6.5 (`cfssl ocspsign`): who may sign,
 * about which certificate, and when.
 */
import assert from "node:assert/strict";
import * as x509 from "../../src/x509/x509.ts";
import { readOcspResponse } from "../../src/server/ocsp_wire.ts";
import { createOcspChecker } from "../../src/server/ocsp.ts";
import { normaliseSerial } from "../../src/x509/serial.ts";
import { createMemoryLogger } from "../../src/log/logger.ts";
import { type CfsslPki, cfsslPki, cfsslTest } from "../support/cfssl.ts";

interface Setup {
  readonly pki: CfsslPki;
  readonly leaf: x509.X509Certificate;
  readonly issuer: x509.X509Certificate;
  readonly leafPem: string;
  read(der: Uint8Array, now?: Date): ReturnType<typeof readOcspResponse>;
}

function wireTest(name: string, body: (s: Setup) => Promise<void>): void {
  cfsslTest(name, async () => {
    await using pki = await cfsslPki();
    const issued = await pki.issueLeaf({ cn: "ROTTA01a", kind: "client" });
    const leaf = new x509.X509Certificate(issued.certPem);
    const issuer = new x509.X509Certificate(pki.intermediatePem);
    await body({
      pki,
      leaf,
      issuer,
      leafPem: issued.certPem,
      read: (der, now = new Date()) =>
        readOcspResponse(der, { leaf, issuer }, { nonce: new Uint8Array(16), now }),
    });
  });
}

wireTest(
  "an answer by a responder the CA issued with CFSSL's ocsp profile is believed",
  async (s) => {
    const answer = await s.read(
      await s.pki.ocspSign(s.leafPem, "revoked", await _responderPair(s)),
    );
    assert.equal(answer.status, "revoked");
    assert.ok(answer.nextUpdate !== null && answer.nextUpdate > answer.thisUpdate);
  },
);

wireTest(
  "an answer signed by a certificate of the CA without id-kp-OCSPSigning is refused",
  async (s) => {
    const client = await s.pki.issueByProfile("not a responder", "client");
    const der = await s.pki.ocspSign(s.leafPem, "good", client);
    await assert.rejects(() => s.read(der), /lacks id-kp-OCSPSigning/);
  },
);

wireTest("a second responder the CA issued for OCSP signing is believed", async (s) => {
  const second = await s.pki.issueByProfile("second responder", "ocsp");
  assert.equal((await s.read(await s.pki.ocspSign(s.leafPem, "good", second))).status, "good");
});

wireTest("an answer about another certificate is refused", async (s) => {
  const other = await s.pki.issueLeaf({ cn: "ROTTA02a", kind: "client" });
  const second = await s.pki.issueByProfile("responder", "ocsp");
  const der = await s.pki.ocspSign(other.certPem, "good", second);
  await assert.rejects(() => s.read(der), /about another certificate/);
});

wireTest("an answer past its nextUpdate, or dated ahead of us, is refused", async (s) => {
  const second = await s.pki.issueByProfile("responder", "ocsp");
  const der = await s.pki.ocspSign(s.leafPem, "good", second);
  const answer = await s.read(der);
  const late = new Date(answer.nextUpdate!.getTime() + 120_000);
  await assert.rejects(() => s.read(der, late), /stale/);
  const early = new Date(answer.thisUpdate.getTime() - 120_000);
  await assert.rejects(() => s.read(der, early), /ahead/);
});

wireTest(
  "an answer whose signature is by another key than the named responder's is refused",
  async (s) => {
    const stranger = await s.pki.issueByProfile("stranger", "ocsp");
    const der = await s.pki.ocspSign(s.leafPem, "good", {
      certPem: s.pki.responderPem,
      keyPem: stranger.keyPem,
    });
    await assert.rejects(() => s.read(der), /signature does not verify/);
  },
);

/** A responder pair issued by the CA with CFSSL's `ocsp` profile. */
wireTest("the checker does not believe a responder the CRL in force revokes", async (s) => {
  const responder = await _responderPair(s);
  const der = await s.pki.ocspSign(s.leafPem, "good", responder);
  const responderSerial = normaliseSerial(new x509.X509Certificate(responder.certPem).serialNumber);
  const options = {
    mode: "on" as const,
    caPems: [s.pki.intermediatePem, s.pki.rootPem],
    url: "http://ocsp.invalid/",
    log: createMemoryLogger(),
    fetch: (() => Promise.resolve(new Response(new Uint8Array(der)))) as typeof globalThis.fetch,
  };
  assert.equal((await createOcspChecker(options).check(s.leaf)).kind, "good");
  const crl = { isRevoked: (serial: string) => normaliseSerial(serial) === responderSerial };
  const verdict = await createOcspChecker({ ...options, crl }).check(s.leaf);
  assert.equal(verdict.kind, "unavailable");
  assert.match(
    verdict.kind === "unavailable" ? verdict.reason : "",
    /responder certificate .* is revoked/,
  );
});

function _responderPair(s: Setup) {
  return s.pki.issueByProfile("responder", "ocsp");
}
