/**
 * Connection limits on both listeners, over real loopback sockets against the service as a
 * process (short limits set through its environment): slow heads, slow bodies and idle
 * keep-alives are closed on time, connections over the cap are refused, and a client that keeps
 * uploading after its 413 is cut off. Also: a paused TLS connection really stops reading (Deno's
 * TLS layer alone would buffer all the client sends). Every loop ends by itself.
 */
import assert from "node:assert/strict";
import { Hono } from "hono";
import type { AppBindings } from "../../src/transport/bindings.ts";
import { createMemoryLogger } from "../../src/log/logger.ts";
import { loadCaCertificates } from "../../src/server/ca.ts";
import { createCrlGuard } from "../../src/server/crl.ts";
import { startMtlsListener } from "../../src/server/mtls.ts";
import { writeDevPki } from "../../tools/dev/pki.ts";
import { connectAsRm, type ServiceProcess, startServiceProcess } from "../support/service.ts";

const HEADERS_S = 1;
const REQUEST_S = 2;
const IDLE_S = 1;
const CAP = 6;
const LIMITS_ENV = {
  HTTP_HEADERS_TIMEOUT_S: String(HEADERS_S),
  HTTP_REQUEST_TIMEOUT_S: String(REQUEST_S),
  HTTP_IDLE_TIMEOUT_S: String(IDLE_S),
  HTTP_MAX_CONNECTIONS: String(CAP),
  // The plain listener takes RM's identity from loopback, so it has routes that read a body.
  MTLS_TRUST_PROXY_HEADER: "true",
  MTLS_TRUSTED_PROXIES: "127.0.0.1/32",
};
const MiB = 1024 * 1024;
const enc = new TextEncoder();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Listener = "mtls" | "plain";
const LISTENERS: readonly Listener[] = ["mtls", "plain"];

/** A raw connection to one listener (mTLS as RM, handshake done), and what it has received. */
interface Raw {
  readonly conn: Deno.Conn;
  readonly openedAt: number;
  /** Resolves with ms since `openedAt` once the server has closed (EOF or reset). */
  readonly closed: Promise<number>;
  isClosed(): boolean;
  text(): string;
  write(text: string | Uint8Array): Promise<boolean>;
  close(): void;
}

async function connect(s: ServiceProcess, to: Listener): Promise<Raw> {
  let conn: Deno.Conn;
  if (to === "plain") {
    conn = await Deno.connect({ hostname: "127.0.0.1", port: s.httpPort });
  } else {
    const tls = await connectAsRm(s);
    // A refused connection fails its handshake; one that hangs counts as refused after 1 s.
    const shaken = await within(tls.handshake().then(() => true, () => false), 1000, false);
    if (!shaken) {
      tls.close();
      throw new Error("TLS handshake failed");
    }
    conn = tls;
  }
  return watch(conn);
}

function watch(conn: Deno.Conn): Raw {
  const openedAt = Date.now();
  let received = "";
  let done = false;
  const closed = (async () => {
    const buf = new Uint8Array(16 * 1024);
    const dec = new TextDecoder();
    try {
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) break;
        received += dec.decode(buf.subarray(0, n));
      }
    } catch { /* a reset is a close too */ }
    done = true;
    return Date.now() - openedAt;
  })();
  return {
    conn,
    openedAt,
    closed,
    isClosed: () => done,
    text: () => received,
    async write(data) {
      if (done) return false;
      try {
        const bytes = typeof data === "string" ? enc.encode(data) : data;
        for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
        return true;
      } catch {
        return false;
      }
    },
    close() {
      try {
        conn.close();
      } catch { /* already closed */ }
    },
  };
}

/** Resolves with `p`'s value, or with `fallback` after `ms`. */
async function within<T, F>(p: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<F>((r) => (timer = setTimeout(() => r(fallback), ms)));
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

const identity = (to: Listener) => to === "plain" ? "X-ClientCert-DN: CN=rasenmaeher\r\n" : "";

async function withService(env: Record<string, string>, fn: (s: ServiceProcess) => Promise<void>) {
  const s = await startServiceProcess({ env });
  try {
    await fn(s);
  } finally {
    await s.stop();
  }
}

Deno.test("both listeners close slow heads, slow bodies and idle keep-alives on time", async () => {
  await withService(LIMITS_ENV, async (s) => {
    const checks = LISTENERS.flatMap((to) => [
      (async () => {
        // A head that never ends: one more header line every 250 ms, for at most 6 s.
        const c = await connect(s, to);
        await c.write("GET /api/v1/healthcheck HTTP/1.1\r\nHost: localhost\r\n");
        while (!c.isClosed() && Date.now() - c.openedAt < 6000) {
          await c.write("X-Slow: 1\r\n");
          await sleep(250);
        }
        const at = await within(c.closed, 1000, -1);
        c.close();
        assert.ok(
          at >= HEADERS_S * 1000 - 100 && at <= HEADERS_S * 1000 + 1500,
          `${to} slow head closed at ${at} ms`,
        );
      })(),
      (async () => {
        // A body that never ends: one byte of a declared 100 every 250 ms, for at most 6 s.
        const c = await connect(s, to);
        await c.write(
          "PUT /api/v1/users/updated HTTP/1.1\r\nHost: localhost\r\n" +
            `Content-Type: application/json\r\nContent-Length: 100\r\n${identity(to)}\r\n{`,
        );
        while (!c.isClosed() && Date.now() - c.openedAt < 6000) {
          await c.write(" ");
          await sleep(250);
        }
        const at = await within(c.closed, 1000, -1);
        c.close();
        assert.ok(
          at >= REQUEST_S * 1000 - 100 && at <= REQUEST_S * 1000 + 1500,
          `${to} slow body closed at ${at} ms`,
        );
      })(),
      (async () => {
        // One request, then nothing: closed after the idle timeout (node adds 1 s of grace).
        const c = await connect(s, to);
        await c.write("GET /api/v1/healthcheck HTTP/1.1\r\nHost: localhost\r\n\r\n");
        let answeredAt = -1;
        while (!c.isClosed() && Date.now() - c.openedAt < 2000 && answeredAt < 0) {
          if (/\r\n\r\n/.test(c.text())) answeredAt = Date.now() - c.openedAt;
          else await sleep(10);
        }
        assert.match(c.text(), /^HTTP\/1\.1 \d{3} /, `${to}: no answer to the first request`);
        assert.match(c.text(), /\r\nkeep-alive: timeout=1\r\n/i);
        const at = await within(c.closed, 6000, -1);
        c.close();
        const idle = at - answeredAt;
        assert.ok(
          at > 0 && idle >= IDLE_S * 1000 - 100 && idle <= IDLE_S * 1000 + 2000,
          `${to} idle connection closed ${idle} ms after its answer`,
        );
      })(),
    ]);
    await Promise.all(checks);
  });
});

Deno.test("both listeners refuse connections over HTTP_MAX_CONNECTIONS and accept again below it", async () => {
  await withService(LIMITS_ENV, async (s) => {
    for (const to of LISTENERS) {
      const opened: Raw[] = [];
      let refusedAtOnce = 0;
      for (let i = 0; i < CAP + 2; i++) {
        // A refused mTLS connection fails its handshake; a refused plain one reads EOF.
        const c = await connect(s, to).catch(() => null);
        if (c === null) refusedAtOnce++;
        else opened.push(c);
      }
      await sleep(400); // well before the 1 s header timeout closes the rest
      const refused = refusedAtOnce + opened.filter((c) => c.isClosed()).length;
      const held = opened.filter((c) => !c.isClosed()).length;
      for (const c of opened) c.close();
      await Promise.all(opened.map((c) => c.closed));
      assert.ok(held <= CAP, `${to}: ${held} connections held open, the cap is ${CAP}`);
      assert.ok(refused >= 2, `${to}: only ${refused} of ${CAP + 2} connections refused`);
      await sleep(300);
      const again = await connect(s, to);
      await again.write(
        "GET /api/v1/healthcheck HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
      );
      await within(again.closed, 3000, -1);
      again.close();
      assert.match(again.text(), /^HTTP\/1\.1 \d{3} /, `${to}: not accepted again below the cap`);
    }
  });
});

Deno.test("both listeners cut off a client that keeps uploading after its 413", async () => {
  await withService(LIMITS_ENV, async (s) => {
    await Promise.all(LISTENERS.map(async (to) => {
      const declared = 256 * MiB;
      const c = await connect(s, to);
      const stop = setTimeout(() => c.close(), 10_000); // never wait longer, whatever happens
      await c.write(
        "POST /api/v1/users/created HTTP/1.1\r\nHost: localhost\r\n" +
          `Content-Type: application/json\r\nContent-Length: ${declared}\r\n${identity(to)}\r\n`,
      );
      const chunk = new Uint8Array(256 * 1024).fill(0x20);
      let sent = 0;
      while (sent < declared && (await c.write(chunk))) sent += chunk.length;
      const at = await within(c.closed, 5000, -1);
      clearTimeout(stop);
      c.close();
      assert.match(c.text(), /^HTTP\/1\.1 413 /, `${to}: ${c.text().slice(0, 60)}`);
      assert.match(c.text(), /\r\nconnection: close\r\n/i, `${to}: the 413 does not say close`);
      assert.ok(at > 0 && at < 3000, `${to}: closed ${at} ms after it opened`);
      // What loopback's kernel buffers hold (up to ~36 MiB here), not what the server read.
      assert.ok(sent < 48 * MiB, `${to}: the client pushed ${(sent / MiB).toFixed(1)} MiB`);
    }));
  });
});

Deno.test("a TLS connection whose request body is not being read stops taking bytes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "limits-test-" });
  const pki = await writeDevPki(dir);
  const log = createMemoryLogger();
  const caPems = await loadCaCertificates(pki.caDir, "*ca*.pem");
  const crl = await createCrlGuard({ path: pki.crl, caPems, log });
  const app = new Hono<{ Bindings: AppBindings }>();
  let reading = false;
  app.post("/slow", async (c) => {
    await sleep(1500); // busy elsewhere: the body waits, and so must the client
    reading = true;
    return c.text(String((await c.req.arrayBuffer()).byteLength));
  });
  const [ca, cert, key, serverCert, serverKey] = await Promise.all([
    Deno.readTextFile(pki.caChain),
    Deno.readTextFile(pki.rmCert),
    Deno.readTextFile(pki.rmKey),
    Deno.readTextFile(pki.serverCert),
    Deno.readTextFile(pki.serverKey),
  ]);
  const listener = await startMtlsListener({
    fetch: (request, env) => app.fetch(request, env),
    hostname: "127.0.0.1",
    port: 0,
    serverCertPem: serverCert,
    serverKeyPem: serverKey,
    caPems,
    crl,
    log,
  });
  try {
    const tls = await Deno.connectTls({
      hostname: "localhost",
      port: listener.port,
      caCerts: [ca],
      cert,
      key,
    });
    const c = watch(tls);
    const stop = setTimeout(() => c.close(), 15_000);
    const declared = 128 * MiB;
    await c.write(`POST /slow HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${declared}\r\n\r\n`);
    const chunk = new Uint8Array(256 * 1024).fill(0x61);
    let sent = 0;
    let sentWhileUnread = -1; // what the client got rid of before the app began to read
    while (sent < declared && (await c.write(chunk))) {
      sent += chunk.length;
      if (reading && sentWhileUnread < 0) sentWhileUnread = sent;
    }
    if (sentWhileUnread < 0) sentWhileUnread = sent;
    while (!/\r\n\r\n\d+$/.test(c.text()) && !c.isClosed()) await sleep(20);
    clearTimeout(stop);
    c.close();
    await c.closed;
    assert.ok(
      sentWhileUnread < 48 * MiB,
      `${(sentWhileUnread / MiB).toFixed(1)} MiB taken while nothing read the body`,
    );
    assert.equal(sent, declared);
    assert.match(c.text(), new RegExp(`^HTTP/1\\.1 200 [^]*\\r\\n\\r\\n${declared}$`));
  } finally {
    await listener.close();
    await crl.close();
    await Deno.remove(dir, { recursive: true });
  }
});
