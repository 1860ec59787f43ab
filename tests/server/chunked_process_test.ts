/**
 * Requests as real clients send them, over a raw TLS socket to the service's mTLS listener:
 * chunked bodies, bodies without a length, and head and body in separate TLS writes (as Python
 * clients such as RM's send them). Each must get its answer, and a valid callback is recorded.
 */
import assert from "node:assert/strict";
import tls from "node:tls";
import { startServiceProcess } from "../support/service.ts";

/** Opens a TLS connection as RM, writes each part separately, and resolves with the answer. */
async function rawRequest(
  s: { mtlsPort: number; pki: { caChain: string; rmCert: string; rmKey: string } },
  parts: readonly string[],
): Promise<{ status: number; body: string }> {
  const [ca, cert, key] = await Promise.all(
    [s.pki.caChain, s.pki.rmCert, s.pki.rmKey].map((p) => Deno.readTextFile(p)),
  );
  return await new Promise((resolve, reject) => {
    let received = "";
    const socket = tls.connect({
      host: "127.0.0.1",
      port: s.mtlsPort,
      servername: "localhost",
      ca,
      cert,
      key,
    }, async () => {
      for (const part of parts) {
        socket.write(part);
        await new Promise((r) => setTimeout(r, 20)); // separate TLS records
      }
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer; got ${JSON.stringify(received)}`));
    }, 10_000);
    socket.on("data", (chunk) => {
      received += String(chunk);
      const end = received.indexOf("\r\n\r\n");
      if (end < 0) return;
      const length = /content-length: (\d+)/i.exec(received.slice(0, end))?.[1];
      if (length !== undefined && received.length >= end + 4 + Number(length)) {
        clearTimeout(timer);
        socket.destroy();
        resolve({
          status: Number(received.slice(9, 12)),
          body: received.slice(end + 4, end + 4 + Number(length)),
        });
      }
    });
    socket.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

const head = (path: string, extra: string) =>
  `POST ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n${extra}\r\n`;
const chunk = (text: string) =>
  `${new TextEncoder().encode(text).length.toString(16)}\r\n${text}\r\n`;

Deno.test("the mTLS listener answers chunked, length-less and split requests, and records the callback", async () => {
  const s = await startServiceProcess();
  try {
    const body = JSON.stringify({ uuid: "u-1", callsign: "CHUNKY01a", x509cert: "-" });
    const chunked = await rawRequest(s, [
      head("/api/v1/users/created", "Transfer-Encoding: chunked\r\n"),
      chunk(body.slice(0, 20)),
      chunk(body.slice(20)),
      "0\r\n\r\n",
    ]);
    assert.equal(chunked.status, 200, chunked.body);
    assert.equal(JSON.parse(chunked.body).success, true);
    const status = JSON.parse((await s.plainGet("/api/v1/status")).text);
    assert.ok(
      status.lifecycle.users.some((u: { user_id: string }) => u.user_id.startsWith("@chunky01a:")),
      "the chunked callback was recorded",
    );

    const split = await rawRequest(s, [
      head("/api/v1/users/created", `Content-Length: ${body.length}\r\n`),
      body,
    ]);
    assert.equal(split.status, 200, split.body);

    const tooBig = await rawRequest(s, [
      head("/api/v1/users/created", "Transfer-Encoding: chunked\r\n"),
      chunk("x".repeat(40_000)),
      chunk("x".repeat(40_000)),
      "0\r\n\r\n",
    ]);
    assert.equal(tooBig.status, 413);

    const bad = await rawRequest(s, [
      head("/api/v1/users/created", "Transfer-Encoding: chunked\r\n"),
      chunk("{not json"),
      "0\r\n\r\n",
    ]);
    assert.equal(bad.status, 400);

    const empty = await rawRequest(s, [head("/api/v1/users/created", "")]);
    assert.ok([400, 422].includes(empty.status), `no body: ${empty.status} ${empty.body}`);
  } finally {
    const out = await s.stop();
    assert.doesNotMatch(out.stderr + out.stdout, /Failed to construct 'Request'/);
  }
});
