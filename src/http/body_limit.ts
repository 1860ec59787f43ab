/**
 * @module The request-body limit. Hono's `bodyLimit` rebuilds a chunked request with
 * `new Request(c.req.raw, …)`, which throws on the mTLS listener, where `c.req.raw` is
 * @hono/node-server's own request class: every body without `Content-Length` was a 500 there.
 * This one reads such a body itself, up to the limit, and hands the route a standard `Request`.
 */
import type { MiddlewareHandler } from "hono";

/** Refuses bodies over `maxBytes` by calling `tooLarge` (which throws the API's 413). */
export function limitBody(maxBytes: number, tooLarge: () => never): MiddlewareHandler {
  return async function limitBody(c, next) {
    const raw = c.req.raw;
    if (raw.body === null) return await next();
    const declared = raw.headers.get("content-length");
    if (declared !== null && !raw.headers.has("transfer-encoding")) {
      if (Number(declared) > maxBytes) tooLarge();
      return await next();
    }
    // No declared length (chunked): read at most the limit, and not a byte more.
    const reader = raw.body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => {});
        tooLarge();
      }
      chunks.push(value);
    }
    const body = new Uint8Array(size);
    let offset = 0;
    for (const chunk of chunks) {
      body.set(chunk, offset);
      offset += chunk.byteLength;
    }
    const headers = new Headers(raw.headers);
    headers.delete("transfer-encoding");
    headers.set("content-length", String(size));
    c.req.raw = new Request(raw.url, { method: raw.method, headers, body });
    await next();
  };
}
