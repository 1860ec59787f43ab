/** @module createOcspChecker(): the lookup policy (coalescing, cap, timeout, cache) with a fake responder. */
import assert from "node:assert/strict";
import { createMemoryLogger } from "../../src/log/logger.ts";
import { createOcspChecker, ocspRefusal } from "../../src/server/ocsp.ts";
import * as x509 from "../../src/x509/x509.ts";
import { createTestPki } from "../../tools/dev/pki.ts";

const pki = await createTestPki("ocsp checker test");
const leaves = await Promise.all(
  Array.from({ length: 6 }, (_, i) => pki.issueLeaf({ cn: `ROTTA0${i}a`, kind: "client" })),
);
const certs = leaves.map((l) => new x509.X509Certificate(l.certPem));

/** A responder that answers garbage after `delayMs`, counting calls and the most at once. */
function slowResponder(delayMs: number) {
  const seen = { calls: 0, active: 0, most: 0 };
  const fetch = async (_url: string | URL | Request, init?: RequestInit) => {
    seen.calls++;
    seen.active++;
    seen.most = Math.max(seen.most, seen.active);
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, delayMs);
        init?.signal?.addEventListener("abort", () => {
          clearTimeout(timer);
          reject(init.signal!.reason);
        });
      });
      return new Response(new Uint8Array([0x30, 0x03, 0x0a, 0x01, 0x03])); // tryLater
    } finally {
      seen.active--;
    }
  };
  return { seen, fetch: fetch as typeof globalThis.fetch };
}

const options = (fetch: typeof globalThis.fetch) => ({
  mode: "on" as const,
  caPems: [pki.intermediatePem, pki.rootPem],
  url: "http://ocsp.invalid/",
  log: createMemoryLogger(),
  fetch,
});

Deno.test("identical lookups in flight are one request; different ones at most `concurrency` at once", async () => {
  const responder = slowResponder(50);
  const checker = createOcspChecker({ ...options(responder.fetch), concurrency: 2 });
  const same = await Promise.all(Array.from({ length: 10 }, () => checker.check(certs[0]!)));
  assert.equal(responder.seen.calls, 1);
  assert.ok(same.every((v) => v.kind === "unavailable"));
  await Promise.all(certs.slice(1).map((c) => checker.check(c)));
  assert.equal(responder.seen.calls, 6);
  assert.equal(responder.seen.most, 2);
});

Deno.test("a failed lookup stands for a while (no storm), and its reason says what went wrong", async () => {
  const responder = slowResponder(0);
  const checker = createOcspChecker(options(responder.fetch));
  const first = await checker.check(certs[0]!);
  await checker.check(certs[0]!);
  assert.equal(responder.seen.calls, 1);
  assert.equal(first.kind, "unavailable");
  assert.match(first.kind === "unavailable" ? first.reason : "", /answered "tryLater"/);
  assert.equal(checker.health().failures, 1);
});

Deno.test("a responder slower than the timeout is no verdict, in about the timeout", async () => {
  const responder = slowResponder(5_000);
  const checker = createOcspChecker({ ...options(responder.fetch), timeoutMs: 100 });
  const started = Date.now();
  const verdict = await checker.check(certs[0]!);
  assert.ok(Date.now() - started < 2_000);
  assert.equal(verdict.kind, "unavailable");
  assert.equal(ocspRefusal(verdict, "on"), null);
  assert.match(ocspRefusal(verdict, "required") ?? "", /^OCSP required/);
});

Deno.test("a leaf without a responder is the CRL's alone: no outage shown, refused only when required", async () => {
  const responder = slowResponder(0);
  const checker = createOcspChecker({ ...options(responder.fetch), url: null });
  const verdict = await checker.check(certs[0]!); // the Deno PKI writes no AIA
  assert.equal(verdict.kind, "unavailable");
  assert.equal(responder.seen.calls, 0);
  assert.deepEqual(checker.health().problems, []);
  assert.match(ocspRefusal(verdict, "required") ?? "", /names no OCSP responder/);
});

Deno.test("with MTLS_OCSP=off nothing is asked", async () => {
  const responder = slowResponder(0);
  const checker = createOcspChecker({ ...options(responder.fetch), mode: "off" });
  assert.equal((await checker.check(certs[0]!)).kind, "unavailable");
  assert.equal(responder.seen.calls, 0);
});

Deno.test("a responder URL's user name and password reach neither verdicts, health nor logs", async () => {
  const log = createMemoryLogger();
  const checker = createOcspChecker({
    ...options(() =>
      Promise.reject(new TypeError("error sending request for url (http://u:hunter2@x/)"))
    ),
    url: "http://u:hunter2@ocsp.invalid/",
    log,
  });
  const verdict = await checker.check(certs[0]!);
  const everything = JSON.stringify([verdict, checker.health(), log.lines]);
  assert.doesNotMatch(everything, /hunter2/);
  assert.match(everything, /ocsp\.invalid/);
});
