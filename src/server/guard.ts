/**
 * @module Applies `admission.ts` to a node:http or node:https server: every accepted connection
 * is counted and admitted or destroyed at once, a TLS connection gets `handshakeTimeoutMs` to
 * finish its handshake, a certificate's connections are counted once it is known, and a request
 * that outstays node's header or request timeout is answered 408 and closed. Every refusal and
 * timeout is reported (`onEvent`, for the metrics) and logged, rate-limited (`notice.ts`).
 */
import type { IncomingMessage, Server as HttpServer } from "node:http";
import type { Server as HttpsServer } from "node:https";
import type { Socket } from "node:net";
import type { Logger } from "../log/logger.ts";
import {
  type AdmissionPolicy,
  type AdmissionStats,
  createAdmission,
  type RefusalReason,
  type Ticket,
} from "./admission.ts";
import { createNotice } from "./notice.ts";

/** What happened to a connection, for the metrics. */
export type ConnectionEvent =
  | { readonly kind: "refused"; readonly reason: RefusalReason }
  | { readonly kind: "timed_out"; readonly reason: "handshake" | "head" | "body" };

export interface GuardOptions {
  readonly policy: AdmissionPolicy;
  /** TLS: connections start in the handshake stage, which lasts at most `handshakeTimeoutMs`. */
  readonly tls: boolean;
  readonly handshakeTimeoutMs: number;
  /** Addresses held to the listener's overall cap only (RM, its proxies, loopback). */
  readonly priority: (address: string) => boolean;
  readonly log: Logger;
  readonly onEvent?: (event: ConnectionEvent) => void;
}

export interface Guard {
  /**
   * A TLS connection finished its handshake as `identity` (`null`: exempt from the identity
   * cap). Destroys it and returns false when that identity holds its share already.
   */
  handshaken(socket: Socket, identity: string | null): boolean;
  /** Whether the request timed out before its body arrived (answered 408 by the guard). */
  timedOut(incoming: IncomingMessage): boolean;
  stats(): AdmissionStats;
}

// node's own answers to a request it gives up on, as its default `clientError` handling writes them.
const ANSWERS: Readonly<Record<string, string>> = {
  ERR_HTTP_REQUEST_TIMEOUT: "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n",
  HPE_HEADER_OVERFLOW: "HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n",
};
const BAD_REQUEST = "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n";

/** Installs the guard on `server`; call before it listens. */
export function guardConnections(server: HttpServer | HttpsServer, o: GuardOptions): Guard {
  const admission = createAdmission(o.policy);
  const notice = createNotice(o.log);
  const report = o.onEvent ?? (() => {});
  // The TLS socket of secureConnection wraps the TCP socket of `connection`: joined by the peer.
  const tickets = new Map<string, Ticket>();
  const shaking = new Map<Ticket, Socket>(); // TLS connections still in their handshake
  const timedOut = new WeakSet<IncomingMessage>();
  const listener = o.tls ? "mtls" : "plain";

  function refuse(socket: Socket, reason: RefusalReason): void {
    socket.destroy();
    report({ kind: "refused", reason });
    notice("warn", "refused a connection", {
      listener,
      reason,
      peer: socket.remoteAddress ?? null,
    });
  }

  // First of the `connection` listeners: a refused connection never reaches TLS or HTTP.
  server.prependListener("connection", function admitConnection(socket: Socket) {
    const address = socket.remoteAddress ?? "";
    const verdict = admission.admit(address, { priority: o.priority(address), tls: o.tls });
    if ("refused" in verdict) return refuse(socket, verdict.refused);
    const { ticket, evicted } = verdict;
    if (evicted !== undefined) _evict(evicted);
    const key = _peerKey(socket);
    tickets.set(key, ticket);
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (o.tls) {
      timer = _handshakeTimer(socket, ticket);
      shaking.set(ticket, socket);
    }
    socket.once("close", () => {
      clearTimeout(timer);
      admission.release(ticket);
      shaking.delete(ticket);
      if (tickets.get(key) === ticket) tickets.delete(key);
    });
  });

  /** Closes a connection still in its handshake to make room for a fairer share. */
  function _evict(ticket: Ticket): void {
    const socket = shaking.get(ticket);
    shaking.delete(ticket);
    socket?.destroy();
    report({ kind: "refused", reason: "evicted" });
    notice("warn", "closed a connection in its TLS handshake to make room for another address", {
      listener,
      peer: ticket.address,
    });
  }

  function _handshakeTimer(socket: Socket, ticket: Ticket): ReturnType<typeof setTimeout> {
    return setTimeout(function handshakeTimedOut() {
      if (!ticket.handshaking || socket.destroyed) return;
      socket.destroy();
      report({ kind: "timed_out", reason: "handshake" });
      notice("info", "closed a connection that did not finish its TLS handshake in time", {
        listener,
        peer: ticket.address,
        timeout_ms: o.handshakeTimeoutMs,
      });
    }, o.handshakeTimeoutMs);
  }

  // Replaces node's default answer so that a timeout is counted and the request marked.
  server.on("clientError", function answerClientError(err: Error, socket: Socket) {
    const code = (err as { code?: string }).code ?? "";
    const pending = (socket as { _httpMessage?: { req?: IncomingMessage; _headerSent?: boolean } })
      ._httpMessage;
    if (code === "ERR_HTTP_REQUEST_TIMEOUT") {
      const stage = pending?.req === undefined ? "head" : "body";
      if (pending?.req !== undefined) timedOut.add(pending.req);
      report({ kind: "timed_out", reason: stage });
      notice("info", "request timed out; answered 408 and closed", {
        listener,
        stage,
        peer: socket.remoteAddress ?? null,
      });
    }
    if (socket.writable && pending?._headerSent !== true) {
      try {
        socket.write(ANSWERS[code] ?? BAD_REQUEST);
      } catch { /* the peer is gone */ }
    }
    socket.destroy();
  });

  return {
    handshaken(socket, identity) {
      const ticket = tickets.get(_peerKey(socket));
      if (ticket === undefined) return true; // accepted before the guard existed: never here
      shaking.delete(ticket);
      // In case the TLS socket's close is the only one this connection reports.
      socket.once("close", () => admission.release(ticket));
      const refused = admission.handshaken(ticket, identity);
      if (refused === null) return true;
      refuse(socket, refused);
      return false;
    },
    timedOut: (incoming) => timedOut.has(incoming),
    stats: () => admission.stats(),
  };
}

function _peerKey(socket: Socket): string {
  return `${socket.remoteAddress}|${socket.remotePort}`;
}
