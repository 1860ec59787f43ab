/**
 * A request body that stalls past HTTP_REQUEST_TIMEOUT_S, on both listeners, from RM: answered
 * 408 with `Connection: close` and closed, logged at info with the peer (not "request failed"
 * at error, not a 500 or a 400 in the request log), and counted as a body timeout.
 */
import assert from "node:assert/strict";
import { connectAsRm, startServiceProcess } from "../support/service.ts";

const REQUEST_S = 2;
const enc = new TextEncoder();

async function stall(conn: Deno.Conn, head: string): Promise<{ text: string; ms: number }> {
  const opened = Date.now();
  await conn.write(enc.encode(head));
  const buf = new Uint8Array(4096);
  let text = "";
  const stop = setTimeout(() => conn.close(), 10_000); // never wait longer, whatever happens
  try {
    for (;;) {
      const n = await conn.read(buf).catch(() => null);
      if (n === null) break;
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
  } finally {
    clearTimeout(stop);
    try {
      conn.close();
    } catch { /* closed by the timer */ }
  }
  return { text, ms: Date.now() - opened };
}

Deno.test("a stalled request body is answered 408 and closed on both listeners, logged at info", async () => {
  const s = await startServiceProcess({
    env: {
      HTTP_HEADERS_TIMEOUT_S: "1",
      HTTP_REQUEST_TIMEOUT_S: String(REQUEST_S),
      MTLS_TRUST_PROXY_HEADER: "true",
      MTLS_TRUSTED_PROXIES: "127.0.0.1/32",
    },
  });
  let log = "";
  try {
    const tls = await connectAsRm(s);
    await tls.handshake();
    const plain = await Deno.connect({ hostname: "127.0.0.1", port: s.httpPort });
    const put = (extra: string, body: string) =>
      "PUT /api/v1/users/updated HTTP/1.1\r\nHost: localhost\r\n" +
      `Content-Type: application/json\r\n${extra}\r\n${body}`;
    // A declared length on one, chunks on the other: both ways of reading a body stall.
    const answers = await Promise.all([
      stall(tls, put("Content-Length: 200\r\n", '{"uuid":')),
      stall(
        plain,
        put(
          "Transfer-Encoding: chunked\r\nX-ClientCert-DN: CN=rasenmaeher\r\n",
          '8\r\n{"uuid":\r\n',
        ),
      ),
    ]);
    for (const [i, a] of answers.entries()) {
      assert.match(a.text, /^HTTP\/1\.1 408 /, `listener ${i}: ${a.text.slice(0, 80)}`);
      assert.match(a.text, /\r\nconnection: close\r\n/i);
      assert.ok(a.ms < REQUEST_S * 1000 + 2000, `listener ${i} closed after ${a.ms} ms`);
    }
    const metrics = (await s.plainGet("/metrics")).text;
    for (const listener of ["mtls", "plain"]) {
      assert.match(
        metrics,
        new RegExp(
          `^matrixrmapi_connections_timed_out_total\\{listener="${listener}",reason="body"\\} 1$`,
          "m",
        ),
      );
    }
  } finally {
    log = (await s.stop()).stderr; // the service logs to stderr
  }
  const lines = log.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
  const timeouts = lines.filter((l) => l.message === "request timed out; answered 408 and closed");
  assert.equal(timeouts.length, 2, log);
  for (const l of timeouts) {
    assert.equal(l["log.level"], "info");
    assert.equal(l.peer, "127.0.0.1");
    assert.equal(l.stage, "body");
  }
  const logged = lines.filter((l) => l["url.path"] === "/api/v1/users/updated");
  assert.deepEqual(logged.map((l) => [l["log.level"], l["http.response.status_code"]]), [
    ["info", 408],
    ["info", 408],
  ]);
  assert.ok(!lines.some((l) => l.message === "request failed"), "logged as an internal error");
});
