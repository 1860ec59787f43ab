/** @module A fake Rasenmaeher over mTLS serving only the people list, with a controllable answer. */
import { Hono } from "hono";
import type { AppBindings } from "../../src/http/env.ts";
import { startMtlsListener } from "../../src/server/mtls.ts";
import { createCrlGuard } from "../../src/server/crl.ts";
import { createMemoryLogger } from "../../src/log/logger.ts";
import type { Issued, TestPki } from "../../tools/dev/pki.ts";

export interface FakeRm extends AsyncDisposable {
  readonly baseUri: string;
  /** What the list endpoint answers next: a JSON value, or a raw status and body. */
  answer: { json: unknown } | { status: number; body: string };
  /** CNs of the clients that called. */
  readonly callers: string[];
}

export async function startFakeRm(pki: TestPki): Promise<FakeRm> {
  const server: Issued = await pki.issueLeaf({
    cn: "localhost",
    kind: "server",
    dnsNames: ["localhost"],
  });
  const log = createMemoryLogger();
  const crl = await createCrlGuard({ path: null, caPems: [], log });
  const fake: { answer: FakeRm["answer"]; callers: string[] } = {
    answer: { json: { callsign_list: [] } },
    callers: [],
  };
  const app = new Hono<{ Bindings: AppBindings }>();
  app.get("/api/v1/people/list", (c) => {
    if (c.env.transport.kind === "mtls") fake.callers.push(c.env.transport.identity.cn);
    const a = fake.answer;
    if ("json" in a) return c.json(a.json as Record<string, unknown>);
    return new Response(a.body, {
      status: a.status,
      headers: { "content-type": "application/json" },
    });
  });
  const listener = await startMtlsListener({
    fetch: (req, env) => app.fetch(req, env),
    hostname: "127.0.0.1",
    port: 0,
    serverCertPem: server.certPem,
    serverKeyPem: server.keyPem,
    caPems: [pki.intermediatePem, pki.rootPem],
    crl,
    log,
  });
  return {
    baseUri: `https://localhost:${listener.port}/`,
    get answer() {
      return fake.answer;
    },
    set answer(a) {
      fake.answer = a;
    },
    callers: fake.callers,
    async [Symbol.asyncDispose]() {
      await listener.close();
      await crl.close();
    },
  };
}
