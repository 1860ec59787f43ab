/**
 * @module Revocation by OCSP at the mTLS listener, with certificates, CRLs and OCSP answers made by
 * real CFSSL 1.6.5 (`cfssl ocspserve` on the CA's database, answers signed by its responder).
 */
import assert from "node:assert/strict";
import { Hono } from "hono";
import type { AppBindings } from "../../src/transport/bindings.ts";
import { createMemoryLogger } from "../../src/log/logger.ts";
import { createCrlGuard } from "../../src/server/crl.ts";
import { startMtlsListener } from "../../src/server/mtls.ts";
import { createOcspChecker, type OcspCheckerOptions } from "../../src/server/ocsp.ts";
import type { OcspMode } from "../../src/transport/listener_state.ts";
import type { Issued } from "../../tools/dev/pki.ts";
import { type CfsslPki, cfsslPki, cfsslTest } from "../support/cfssl.ts";

interface Setup {
  readonly pki: CfsslPki;
  readonly checker: ReturnType<typeof createOcspChecker>;
  readonly log: ReturnType<typeof createMemoryLogger>;
  /** GET /whoami as `who` on a fresh connection: the status, or "refused". */
  call(who: Issued): Promise<number | "refused">;
  /** One keep-alive connection as `who`: each call is a request on it. */
  keepAlive(who: Issued): { get(): Promise<number | "refused">; close(): void };
  /** Writes the CA's current CRLs (`cfssl crl`) and makes the guard read them. */
  publishCrl(): Promise<void>;
  /** Moves the checker's clock. */
  advance(ms: number): void;
  refusals(): string[];
}

type Options = Partial<Pick<OcspCheckerOptions, "maxCacheMs" | "timeoutMs" | "url">> & {
  mode?: OcspMode;
};

function ocspTest(name: string, options: Options, body: (s: Setup) => Promise<void>): void {
  cfsslTest(name, async () => {
    await using pki = await cfsslPki();
    const dir = await Deno.makeTempDir({ prefix: "ocsp-test-" });
    const crlPath = `${dir}/crl.pem`;
    await Deno.writeTextFile(crlPath, await pki.crlPem());
    const log = createMemoryLogger();
    const caPems = [pki.intermediatePem, pki.rootPem];
    const crl = await createCrlGuard({ path: crlPath, caPems, log, pollMs: 600_000 });
    let offset = 0;
    const checker = createOcspChecker({
      mode: options.mode ?? "on",
      caPems,
      log,
      now: () => new Date(Date.now() + offset),
      timeoutMs: options.timeoutMs ?? 2000,
      ...(options.maxCacheMs === undefined ? {} : { maxCacheMs: options.maxCacheMs }),
      ...(options.url === undefined ? {} : { url: options.url }),
    });
    const app = new Hono<{ Bindings: AppBindings }>();
    app.get("/whoami", (c) => c.json(c.env.transport));
    const server = await pki.issueLeaf({
      cn: "localhost",
      kind: "server",
      dnsNames: ["localhost"],
    });
    const listener = await startMtlsListener({
      fetch: (request, env) => app.fetch(request, env),
      hostname: "127.0.0.1",
      port: 0,
      serverCertPem: server.certPem,
      serverKeyPem: server.keyPem,
      caPems,
      crl,
      ocsp: checker,
      log,
    });
    try {
      await body({
        pki,
        checker,
        log,
        async call(who) {
          const client = Deno.createHttpClient({
            caCerts: [pki.chainPem],
            cert: who.certPem,
            key: who.keyPem,
          });
          try {
            const res = await fetch(`https://localhost:${listener.port}/whoami`, { client });
            await res.body?.cancel();
            return res.status;
          } catch {
            return "refused";
          } finally {
            client.close();
          }
        },
        keepAlive(who) {
          const client = Deno.createHttpClient({
            caCerts: [pki.chainPem],
            cert: who.certPem,
            key: who.keyPem,
          });
          return {
            get: () =>
              fetch(`https://localhost:${listener.port}/whoami`, { client }).then(
                async (res) => (await res.body?.cancel(), res.status),
                () => "refused" as const,
              ),
            close: () => client.close(),
          };
        },
        async publishCrl() {
          await Deno.writeTextFile(crlPath, await pki.crlPem());
          await crl.refresh();
        },
        advance: (ms) => (offset += ms),
        refusals: () =>
          log.lines.map((l) => JSON.parse(l)).filter((l) =>
            l.message === "refused a client certificate"
          ).map((l) => l.reason),
      });
    } finally {
      await listener.close();
      await crl.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
}

/** A person's certificate as RM gets it signed (client profile), with its OCSP answer signed. */
async function person(pki: CfsslPki, cn = "ROTTA01a"): Promise<Issued> {
  const issued = await pki.issueLeaf({ cn, kind: "client" });
  await pki.ocsp.refresh(); // ocsprest's refresher; until then CFSSL answers "unauthorized"
  return issued;
}

ocspTest(
  "a person revoked at the CA is refused by OCSP within a minute (default cache), before any CRL",
  {},
  async (s) => {
    const p = await person(s.pki);
    assert.equal(await s.call(p), 200);
    await s.pki.revoke(p.certPem); // the CRL file is not rewritten (ocsprest does it every 15 min)
    assert.equal(await s.call(p), 200, "the good answer is cached for a while");
    s.advance(60_001);
    assert.equal(await s.call(p), "refused");
    assert.deepEqual(s.refusals(), ["revoked by OCSP"]);
    assert.equal(s.checker.health().revoked, 1);
  },
);

ocspTest("with a short cache the revocation is seen on the next connection", {
  maxCacheMs: 200,
}, async (s) => {
  const p = await person(s.pki);
  assert.equal(await s.call(p), 200);
  await s.pki.revoke(p.certPem);
  const revokedAt = Date.now();
  await new Promise((r) => setTimeout(r, 250));
  assert.equal(await s.call(p), "refused");
  assert.ok(Date.now() - revokedAt < 60_000);
});

ocspTest("a burst of connections by one person is one OCSP request", {}, async (s) => {
  const p = await person(s.pki);
  const before = s.pki.ocsp.requests;
  const statuses = await Promise.all(Array.from({ length: 12 }, () => s.call(p)));
  assert.deepEqual(statuses, Array(12).fill(200));
  assert.equal(s.pki.ocsp.requests - before, 1);
  assert.ok(s.checker.health().cacheHits >= 11);
  const other = await person(s.pki, "ROTTA02a");
  assert.equal(await s.call(other), 200);
  assert.equal(s.pki.ocsp.requests - before, 2, "another person is another lookup");
});

ocspTest(
  "with the responder unreachable, the CRL decides: admitted until the CRL lists the person",
  { timeoutMs: 300 },
  async (s) => {
    const p = await person(s.pki);
    s.pki.ocsp.mode = "hang";
    await s.pki.revoke(p.certPem);
    assert.equal(await s.call(p), 200, "no OCSP verdict and a CRL without the person");
    assert.match(s.checker.health().problems.join(), /no OCSP verdict since .*cannot reach/);
    await s.publishCrl(); // ocsprest's next CRL
    assert.equal(await s.call(p), "refused");
    assert.deepEqual(s.refusals(), ["revoked by the CRL"]);
    const warned = s.log.lines.filter((l) => l.includes("no OCSP verdict: the CRL decides"));
    assert.equal(warned.length, 1, "the outage is logged once a minute, not per connection");
  },
);

ocspTest(
  "with the responder unreachable and MTLS_OCSP=required, a good person is refused",
  { mode: "required", url: "http://127.0.0.1:9/ocsp" }, // the discard port: nobody listens
  async (s) => {
    const p = await person(s.pki);
    assert.equal(await s.call(p), "refused");
    assert.match(s.refusals()[0] ?? "", /^OCSP required, and there is no verdict: cannot reach/);
  },
);

ocspTest(
  'a certificate CFSSL has no answer for yet ("unauthorized" until ocsprefresh) is left to the CRL',
  {},
  async (s) => {
    const fresh = await s.pki.issueLeaf({ cn: "ROTTA03a", kind: "client" }); // no refresh yet
    assert.equal(await s.call(fresh), 200);
    assert.match(s.checker.health().problems.join(), /answered "unauthorized"/);
  },
);

ocspTest(
  "a forged OCSP answer (the responder's name, another key) is not believed and, when required, refuses",
  {
    mode: "required",
  },
  async (s) => {
    const p = await person(s.pki);
    // A responder certificate of the right name and usage, but the answer is signed by another key.
    const impostor = await s.pki.issueByProfile("impostor", "client");
    s.pki.ocsp.mode = {
      answer: await s.pki.ocspSign(p.certPem, "good", {
        certPem: s.pki.responderPem,
        keyPem: impostor.keyPem,
      }),
    };
    assert.equal(await s.call(p), "refused");
    assert.match(s.refusals()[0] ?? "", /signature does not verify/);
  },
);

ocspTest(
  "a keep-alive connection is cut at its next request once OCSP says revoked",
  {},
  async (s) => {
    const p = await person(s.pki);
    const connection = s.keepAlive(p);
    try {
      assert.equal(await connection.get(), 200);
      await s.pki.revoke(p.certPem);
      s.advance(60_001);
      assert.equal(await connection.get(), "refused");
      assert.deepEqual(s.refusals(), ["revoked by OCSP"]);
    } finally {
      connection.close();
    }
  },
);

ocspTest(
  "an answer is used no longer than its nextUpdate, even under a longer cache bound",
  { maxCacheMs: 3_600_000 },
  async (s) => {
    const p = await person(s.pki);
    // ocsprefresh -interval=1h: thisUpdate is the hour begun, nextUpdate the next one.
    const nextUpdate = Math.floor(Date.now() / 3_600_000) * 3_600_000 + 3_600_000;
    s.advance(nextUpdate - 10_000 - Date.now());
    const before = s.pki.ocsp.requests;
    assert.equal(await s.call(p), 200);
    s.advance(5_000);
    assert.equal(await s.call(p), 200);
    assert.equal(s.pki.ocsp.requests - before, 1, "cached before nextUpdate");
    s.advance(10_000);
    assert.equal(await s.call(p), 200);
    assert.equal(s.pki.ocsp.requests - before, 2, "asked again once nextUpdate passed");
  },
);
