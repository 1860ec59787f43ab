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
import { addressInBlocks, type CidrBlock } from "../config/cidr.ts";
import {
  type Admission,
  type AdmissionPolicy,
  type AdmissionStats,
  createAdmission,
  type RefusalReason,
  type Ticket,
} from "./admission.ts";
import { createNotice, type Notice } from "./notice.ts";
import { admissionPolicy, type ListenerLimits } from "./limits.ts";

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

/** How a listener asks for its guard (`limits.ts` turns the limits into the budgets). */
export interface ListenerGuardOptions {
  readonly limits: ListenerLimits;
  readonly tls: boolean;
  /** Addresses held to the overall cap only. @default none */
  readonly priorityAddresses?: readonly CidrBlock[];
  readonly onConnectionEvent?: (event: ConnectionEvent) => void;
  readonly log: Logger;
}

/** `guardConnections` with a listener's limits. */
export function guardListener(server: HttpServer | HttpsServer, o: ListenerGuardOptions): Guard {
  return guardConnections(server, {
    policy: admissionPolicy(o.limits),
    tls: o.tls,
    handshakeTimeoutMs: o.limits.handshakeTimeoutMs,
    priority: (address) => addressInBlocks(address, o.priorityAddresses ?? []),
    log: o.log,
    ...(o.onConnectionEvent ? { onEvent: o.onConnectionEvent } : {}),
  });
}

/** Installs the guard on `server`; call before it listens. */
export function guardConnections(server: HttpServer | HttpsServer, o: GuardOptions): Guard {
  const g: _Guarded = {
    o,
    admission: createAdmission(o.policy),
    notice: createNotice(o.log),
    report: o.onEvent ?? (() => {}),
    tickets: new Map(),
    shaking: new Map(),
    timedOut: new WeakSet(),
    listener: o.tls ? "mtls" : "plain",
  };
  // First of the `connection` listeners: a refused connection never reaches TLS or HTTP.
  server.prependListener("connection", (socket: Socket) => _admitConnection(g, socket));
  // Replaces node's default answer so that a timeout is counted and the request marked.
  server.on("clientError", (err: Error, socket: Socket) => _answerClientError(g, err, socket));
  return {
    handshaken: (socket, identity) => _handshaken(g, socket, identity),
    timedOut: (incoming) => g.timedOut.has(incoming),
    stats: () => g.admission.stats(),
  };
}

/** What the guard of one listener keeps. */
interface _Guarded {
  readonly o: GuardOptions;
  readonly admission: Admission;
  readonly notice: Notice;
  readonly report: (event: ConnectionEvent) => void;
  /** The TLS socket of secureConnection wraps the TCP socket of `connection`: joined by peer. */
  readonly tickets: Map<string, Ticket>;
  /** TLS connections still in their handshake. */
  readonly shaking: Map<Ticket, Socket>;
  /** Requests given up on (answered 408). */
  readonly timedOut: WeakSet<IncomingMessage>;
  readonly listener: "mtls" | "plain";
}

function _admitConnection(g: _Guarded, socket: Socket): void {
  const address = socket.remoteAddress ?? "";
  const verdict = g.admission.admit(address, { priority: g.o.priority(address), tls: g.o.tls });
  if ("refused" in verdict) return _refuse(g, socket, verdict.refused);
  const { ticket, evicted } = verdict;
  if (evicted !== undefined) _evict(g, evicted);
  const key = _peerKey(socket);
  g.tickets.set(key, ticket);
  let timer: ReturnType<typeof setTimeout> | undefined;
  if (g.o.tls) {
    timer = _handshakeTimer(g, socket, ticket);
    g.shaking.set(ticket, socket);
  }
  socket.once("close", () => {
    clearTimeout(timer);
    g.admission.release(ticket);
    g.shaking.delete(ticket);
    if (g.tickets.get(key) === ticket) g.tickets.delete(key);
  });
}

function _refuse(g: _Guarded, socket: Socket, reason: RefusalReason): void {
  socket.destroy();
  g.report({ kind: "refused", reason });
  g.notice("warn", "refused a connection", {
    listener: g.listener,
    reason,
    peer: socket.remoteAddress ?? null,
  });
}

/** Closes a connection still in its handshake to make room for a fairer share. */
function _evict(g: _Guarded, ticket: Ticket): void {
  const socket = g.shaking.get(ticket);
  g.shaking.delete(ticket);
  socket?.destroy();
  g.report({ kind: "refused", reason: "evicted" });
  g.notice("warn", "closed a connection in its TLS handshake to make room for another address", {
    listener: g.listener,
    peer: ticket.address,
  });
}

function _handshakeTimer(g: _Guarded, socket: Socket, ticket: Ticket) {
  return setTimeout(function handshakeTimedOut() {
    if (!ticket.handshaking || socket.destroyed) return;
    socket.destroy();
    g.report({ kind: "timed_out", reason: "handshake" });
    g.notice("info", "closed a connection that did not finish its TLS handshake in time", {
      listener: g.listener,
      peer: ticket.address,
      timeout_ms: g.o.handshakeTimeoutMs,
    });
  }, g.o.handshakeTimeoutMs);
}

function _handshaken(g: _Guarded, socket: Socket, identity: string | null): boolean {
  const ticket = g.tickets.get(_peerKey(socket));
  if (ticket === undefined) return true; // accepted before the guard existed: never here
  g.shaking.delete(ticket);
  // In case the TLS socket's close is the only one this connection reports.
  socket.once("close", () => g.admission.release(ticket));
  const refused = g.admission.handshaken(ticket, identity);
  if (refused === null) return true;
  _refuse(g, socket, refused);
  return false;
}

/** node's default `clientError` answer, with a timeout counted, logged and its request marked. */
function _answerClientError(g: _Guarded, err: Error, socket: Socket): void {
  const code = (err as { code?: string }).code ?? "";
  const pending = (socket as { _httpMessage?: { req?: IncomingMessage; _headerSent?: boolean } })
    ._httpMessage;
  if (code === "ERR_HTTP_REQUEST_TIMEOUT") {
    const stage = pending?.req === undefined ? "head" : "body";
    if (pending?.req !== undefined) g.timedOut.add(pending.req);
    g.report({ kind: "timed_out", reason: stage });
    g.notice("info", "request timed out; answered 408 and closed", {
      listener: g.listener,
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
}

function _peerKey(socket: Socket): string {
  return `${socket.remoteAddress}|${socket.remotePort}`;
}
