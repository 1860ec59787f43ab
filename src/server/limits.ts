/**
 * @module Connection limits shared by both listeners (both are node:http(s) servers through
 * @hono/node-server): header, request and idle timeouts, the connection budgets `guard.ts`
 * enforces (overall, per address, in the TLS handshake, per certificate), closing a connection
 * whose request body is still arriving when its response is sent, and real read backpressure on
 * TLS connections.
 *
 * Measured in Deno 2.9.6 (`.local/probe/limits/`): node's `headersTimeout`, `requestTimeout`,
 * `keepAliveTimeout` (closes 1 s after the advertised `Keep-Alive: timeout=N`, as node does),
 * `maxConnections` (but it refuses silently: the service counts connections itself instead),
 * `maxHeaderSize`, `maxHeadersCount`, `server.setTimeout` and TLS
 * `handshakeTimeout` all work, on `node:http` and `node:https`. What does not: pausing a TLS
 * server socket. Deno's TLSWrap `readStop` only stops handing cleartext to JS; the TCP handle
 * beneath keeps reading and the TLS layer buffers without bound (100 MiB pushed at a paused
 * socket in 0.2 s, RSS +200 MiB), so a client can push whatever the HTTP layer has stopped
 * reading — an unread body, the rest of an oversized upload — into memory.
 */
import type { IncomingMessage, Server as HttpServer } from "node:http";
import type { Server as HttpsServer } from "node:https";
import type { Socket } from "node:net";
import type { HttpBindings } from "@hono/node-server";
import type { AdmissionPolicy } from "./admission.ts";
import type { Config } from "../config/config.ts";

/** Limits applied to each listener separately: the configuration's, documented there. */
export type ListenerLimits = Omit<Config["limits"], "priorityAddresses">;

export const DEFAULT_LIMITS: ListenerLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  idleTimeoutMs: 30_000,
  maxConnections: 4096,
  maxConnectionsPerAddress: 1024,
  maxHandshakes: 1024,
  maxHandshakesPerAddress: 512,
  handshakeTimeoutMs: 5_000,
  maxConnectionsPerIdentity: 64,
};

/** The admission budgets of `limits`: addresses without priority share three quarters. */
export function admissionPolicy(limits: ListenerLimits): AdmissionPolicy {
  return {
    maxConnections: limits.maxConnections,
    maxOrdinary: Math.max(1, limits.maxConnections - Math.floor(limits.maxConnections / 4)),
    maxPerAddress: limits.maxConnectionsPerAddress,
    maxHandshakes: limits.maxHandshakes,
    maxHandshakesPerAddress: limits.maxHandshakesPerAddress,
    maxPerIdentity: limits.maxConnectionsPerIdentity,
  };
}

/** Options for `http.createServer` / `https.createServer` that enforce `limits`. */
export function limitServerOptions(limits: ListenerLimits): {
  headersTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
  connectionsCheckingInterval: number;
} {
  return {
    // Node refuses a headers timeout above the request timeout.
    headersTimeout: Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs),
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.idleTimeoutMs,
    // The header and request timeouts are enforced by a sweep at this interval (node's default
    // is 30 s, which would let a slow client overstay by that much).
    connectionsCheckingInterval: Math.max(
      100,
      Math.min(1000, Math.floor(Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 4)),
    ),
  };
}

/** Returns the set of open sockets (the caps are `guard.ts`'s, not node's `maxConnections`). */
export function trackSockets(server: HttpServer | HttpsServer): Set<Socket> {
  const sockets = new Set<Socket>(); // every open connection, so close() can end keep-alives
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  return sockets;
}

type AnyBindings = { incoming: unknown; outgoing: unknown };

/**
 * After a response that leaves the request body unread: the bytes still read and discarded, how
 * long the client gets to read the response, and what the connection may take in all before it
 * is destroyed at once (a transport that does not stop reading when paused).
 */
export const LINGER = { bytes: 64 * 1024, ms: 1000, hardBytes: 1024 * 1024 } as const;

/**
 * Wraps a listener's fetch: when the response is ready while the request body is still
 * arriving (a 413 for a declared oversized body, any refusal before the body was read), the
 * response says `Connection: close` and the connection is closed once it is written — not
 * drained or kept alive, so a client that ignores the answer cannot keep uploading.
 */
export function closeWhenBodyUnread<E>(
  fetch: (request: Request, env: E) => Response | Promise<Response>,
): (request: Request, env: E) => Promise<Response> {
  return async function closeWhenBodyUnread(request, env) {
    try {
      return await fetch(request, env);
    } finally {
      _closeIfUnread(env as unknown as AnyBindings);
    }
  };
}

function _closeIfUnread(env: AnyBindings): void {
  const { incoming, outgoing } = env as unknown as HttpBindings;
  if (incoming === undefined || outgoing === undefined || incoming.complete) return;
  const socket = incoming.socket;
  const linger = () => _linger(socket, incoming);
  // Node (and @hono/node-server's drain) end such a connection with destroySoon(): destroyed as
  // soon as the response is flushed, while the client may still be sending — the kernel then
  // resets the connection, and the reset can overtake the response. Linger instead.
  (socket as { destroySoon?: () => void }).destroySoon = linger;
  if (!outgoing.headersSent) outgoing.setHeader("connection", "close");
  if (outgoing.writableFinished) linger();
  else {
    outgoing.once("finish", linger);
    outgoing.once("close", linger);
  }
}

const lingering = new WeakSet<object>();

/**
 * Half-closes after the response and discards what still arrives, at most LINGER.bytes (a
 * client sending a little over the limit finishes and reads its answer); then reads nothing
 * more, so a client still sending is held by TCP backpressure, and at LINGER.ms destroys the
 * connection, having given the client that long to read its answer.
 */
function _linger(socket: Socket, incoming: IncomingMessage): void {
  if (socket.destroyed || lingering.has(socket)) return;
  lingering.add(socket);
  const start = socket.bytesRead;
  let discarded = 0;
  const check = (chunk?: Uint8Array) => {
    discarded += chunk?.byteLength ?? 0;
    const taken = Math.max(discarded, socket.bytesRead - start);
    if (taken > LINGER.hardBytes) socket.destroy();
    else if (taken > LINGER.bytes) {
      socket.off("data", check);
      // Read nothing more; nothing may resume it (node's dump of the unread body would).
      socket.resume = () => socket;
      socket.pause();
    }
  };
  const destroy = () => socket.destroy();
  const timer = setTimeout(destroy, LINGER.ms);
  const poll = setInterval(check, 20); // bytes that arrive without surfacing as `data`
  socket.once("close", () => {
    clearTimeout(timer);
    clearInterval(poll);
  });
  // The client has sent all it will: once our bytes are out there is nothing left to wait for.
  socket.once("end", () => socket.writableFinished ? destroy() : socket.once("finish", destroy));
  socket.on("data", check); // every chunk, before the parser discards an unread body
  socket.end(); // after the response's bytes
  incoming.resume();
}

interface StreamHandle {
  readStart(): number;
  readStop(): number;
}

/**
 * Makes pausing a TLS socket pause the TCP connection beneath it, as in node, so an HTTP layer
 * that stops reading applies TCP backpressure instead of letting Deno's TLS layer buffer all the
 * client sends. Returns false (and changes nothing) if the handles are not shaped as expected.
 */
export function forwardTlsBackpressure(socket: Socket): boolean {
  const tls = (socket as unknown as { _handle?: Partial<StreamHandle> & { _parent?: unknown } })
    ._handle;
  const tcp = tls?._parent as Partial<StreamHandle> | undefined;
  if (
    tls === undefined || tcp === undefined || tcp === null ||
    typeof tls.readStart !== "function" || typeof tls.readStop !== "function" ||
    typeof tcp.readStart !== "function" || typeof tcp.readStop !== "function"
  ) {
    return false;
  }
  const readStart = tls.readStart;
  const readStop = tls.readStop;
  const beneath = tcp as StreamHandle;
  tls.readStop = function readStopBoth(this: StreamHandle) {
    const result = readStop.call(this);
    beneath.readStop();
    return result;
  };
  tls.readStart = function readStartBoth(this: StreamHandle) {
    const result = readStart.call(this); // first hands JS what the TLS layer already holds
    beneath.readStart();
    return result;
  };
  return true;
}
