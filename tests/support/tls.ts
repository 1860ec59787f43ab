/** @module A real mTLS listener on loopback with a generated PKI, and clients that call it. */
import { Hono } from "hono";
import { createTestPki, type Issued, type TestPki } from "../../tools/dev/pki.ts";
import type { AppBindings } from "../../src/http/env.ts";
import { createCrlGuard, type CrlGuard } from "../../src/server/crl.ts";
import { startMtlsListener } from "../../src/server/mtls.ts";
import { createMemoryLogger } from "../../src/log/logger.ts";

export interface MtlsFixture {
  readonly pki: TestPki;
  readonly port: number;
  readonly crlPath: string;
  readonly crl: CrlGuard;
  readonly log: ReturnType<typeof createMemoryLogger>;
  /** GET /whoami with `client`'s certificate (or none): the transport as the app saw it. */
  call(client: Issued | null, caPem?: string): Promise<Response>;
  close(): Promise<void>;
}

/** Starts an echo app behind the mTLS listener with a two-CRL file like the ecosystem's. */
export async function startMtlsFixture(
  options: { revoked?: readonly string[]; pki?: TestPki } = {},
): Promise<MtlsFixture> {
  const pki = options.pki ?? await createTestPki();
  const dir = await Deno.makeTempDir({ prefix: "mtls-" });
  const crlPath = `${dir}/crl.pem`;
  await Deno.writeTextFile(
    crlPath,
    (await pki.issueCrl({ issuer: "root" })) +
      (await pki.issueCrl({ issuer: "intermediate", revokedSerials: options.revoked ?? [] })),
  );
  const server = await pki.issueLeaf({
    cn: "localhost",
    kind: "server",
    dnsNames: ["localhost"],
    ipAddresses: ["127.0.0.1"],
  });
  const log = createMemoryLogger();
  const caPems = [pki.intermediatePem, pki.rootPem];
  const crl = await createCrlGuard({ path: crlPath, caPems, log, pollMs: 100 });
  const app = new Hono<{ Bindings: AppBindings }>();
  app.get("/whoami", (c) => c.json(c.env.transport));
  const listener = await startMtlsListener({
    fetch: (req, env) => app.fetch(req, env),
    hostname: "127.0.0.1",
    port: 0,
    serverCertPem: server.certPem,
    serverKeyPem: server.keyPem,
    caPems,
    crl,
    log,
  });
  return {
    pki,
    port: listener.port,
    crlPath,
    crl,
    log,
    async call(client, caPem) {
      const http = Deno.createHttpClient({
        caCerts: [caPem ?? pki.chainPem],
        ...(client ? { cert: client.certPem, key: client.keyPem } : {}),
      });
      try {
        const res = await fetch(`https://localhost:${listener.port}/whoami`, { client: http });
        const body = await res.text();
        return new Response(body, { status: res.status, headers: res.headers });
      } finally {
        http.close();
      }
    },
    async close() {
      await listener.close();
      await crl.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Waits (bounded) until `check` holds. */
export async function eventually(check: () => Promise<boolean>, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
