/**
 * The per-certificate cap on the mTLS listener itself (in-process): a person's certificate holds
 * at most its share of connections, RM's (its CN is exempt) as many as it opens, and a refusal
 * is logged and reported for the metrics.
 */
import assert from "node:assert/strict";
import { Hono } from "hono";
import type { AppBindings } from "../../src/transport/bindings.ts";
import { createMemoryLogger } from "../../src/log/logger.ts";
import { loadCaCertificates } from "../../src/server/ca.ts";
import { createCrlGuard } from "../../src/server/crl.ts";
import { startMtlsListener } from "../../src/server/mtls.ts";
import { DEFAULT_LIMITS } from "../../src/server/limits.ts";
import type { ConnectionEvent } from "../../src/server/guard.ts";
import { writeDevPki } from "../../tools/dev/pki.ts";

Deno.test("startMtlsListener() caps a person's certificate but never RM's", async () => {
  const dir = await Deno.makeTempDir({ prefix: "identity-cap-" });
  const pki = await writeDevPki(dir);
  const log = createMemoryLogger();
  const caPems = await loadCaCertificates(pki.caDir, "*ca*.pem");
  const crl = await createCrlGuard({ path: pki.crl, caPems, log });
  const app = new Hono<{ Bindings: AppBindings }>();
  app.get(
    "/who",
    (c) => c.text(c.env.transport.kind === "mtls" ? c.env.transport.identity.cn : ""),
  );
  const events: ConnectionEvent[] = [];
  const read = (p: string) => Deno.readTextFile(p);
  const listener = await startMtlsListener({
    fetch: (request, env) => app.fetch(request, env),
    hostname: "127.0.0.1",
    port: 0,
    serverCertPem: await read(pki.serverCert),
    serverKeyPem: await read(pki.serverKey),
    caPems,
    crl,
    log,
    limits: { ...DEFAULT_LIMITS, maxConnectionsPerIdentity: 2 },
    exemptCns: ["rasenmaeher"],
    onConnectionEvent: (e) => events.push(e),
  });
  const ca = await read(pki.caChain);
  const open: Deno.TlsConn[] = [];
  /** Opens a connection as `who` and asks who it is; the answer, or "" when refused. */
  async function ask(who: "rm" | "user"): Promise<string> {
    const conn = await Deno.connectTls({
      hostname: "localhost",
      port: listener.port,
      caCerts: [ca],
      cert: await read(who === "rm" ? pki.rmCert : pki.userCert),
      key: await read(who === "rm" ? pki.rmKey : pki.userKey),
    });
    open.push(conn); // held open: it keeps its place
    try {
      await conn.write(new TextEncoder().encode("GET /who HTTP/1.1\r\nHost: localhost\r\n\r\n"));
      const buf = new Uint8Array(4096);
      const n = await conn.read(buf);
      return n === null ? "" : new TextDecoder().decode(buf.subarray(0, n)).split("\r\n\r\n")[1]!;
    } catch {
      return ""; // reset: refused
    }
  }
  try {
    const people = [await ask("user"), await ask("user"), await ask("user")];
    assert.deepEqual(people, ["DEVUSER1a", "DEVUSER1a", ""]);
    const rm = [];
    for (let i = 0; i < 5; i++) rm.push(await ask("rm"));
    assert.deepEqual(rm, Array(5).fill("rasenmaeher"));
    assert.deepEqual(events, [{ kind: "refused", reason: "identity_full" }]);
    assert.ok(log.lines.some((l) => /"refused a connection".*"identity_full"/.test(l)));
    assert.deepEqual(listener.connections().open, 7);
  } finally {
    for (const c of open) {
      try {
        c.close();
      } catch { /* already closed */ }
    }
    await listener.close();
    await crl.close();
    await Deno.remove(dir, { recursive: true });
  }
});
