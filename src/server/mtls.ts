/**
 * @module The mTLS listener: node:https in Deno, with CRL enforcement and the limits of
 * `limits.ts`.
 */
// Why node:https: Deno.serve can neither ask for nor verify client certificates. The handshake
// verifies the chain; this module adds what node:https does not do (it ignores `crl`).
import type { CidrBlock } from "../config/cidr.ts";
import https from "node:https";
import type { TLSSocket } from "node:tls";
import type { Socket } from "node:net";
import { createAdaptorServer, type Http2Bindings, type HttpBindings } from "@hono/node-server";
import * as x509 from "../x509/x509.ts";
import type { AppBindings, PeerIdentity } from "../transport/bindings.ts";
import { type ChainLink, type KnownPeer, peerReadings, trustedCa } from "./peer.ts";
import { type OcspChecker, ocspRefusal } from "./ocsp.ts";
import type { Logger } from "../log/logger.ts";
import type { CrlGuard } from "./crl.ts";
import type { RunningListener } from "./plain.ts";
import { createNotice } from "./notice.ts";
import {
  closeWhenBodyUnread,
  DEFAULT_LIMITS,
  forwardTlsBackpressure,
  limitServerOptions,
  type ListenerLimits,
  trackSockets,
} from "./limits.ts";
import { type ConnectionEvent, guardListener } from "./guard.ts";

export interface MtlsListenerOptions {
  /** Serves a vetted request: the service's HTTP app (`createApp(...).fetch`, src/http/app.ts). */
  readonly fetch: (request: Request, env: AppBindings) => Response | Promise<Response>;
  readonly hostname: string;
  /** 0 = any free port (the returned `port` says which). */
  readonly port: number;
  readonly serverCertPem: string;
  readonly serverKeyPem: string;
  /** CA certificates client certificates must chain to (PEM, one certificate each). */
  readonly caPems: readonly string[];
  readonly crl: CrlGuard;
  /** Revocation by OCSP, asked before a request is served; absent = off. */
  readonly ocsp?: OcspChecker;
  readonly log: Logger;
  /** Timeouts and connection budgets. @default DEFAULT_LIMITS */
  readonly limits?: ListenerLimits;
  /** Addresses held to the overall cap only (RM, its proxies). @default none */
  readonly priorityAddresses?: readonly CidrBlock[];
  /** Certificate CNs exempt from the per-certificate cap (RM's). @default none */
  readonly exemptCns?: readonly string[];
  /** Each refused or timed-out connection, for the metrics. */
  readonly onConnectionEvent?: (event: ConnectionEvent) => void;
}

export { formatDn, readPeerCertificate } from "./peer.ts";
export type { ChainLink, PeerReading } from "./peer.ts";

/** What a certificate's connections are counted under: issuer and serial; RM's (by CN) never. */
function _capKey(identity: PeerIdentity, links: readonly ChainLink[], exempt: Set<string>) {
  return exempt.has(identity.cn) ? null : `${links[0]?.issuer ?? ""}|${identity.serial}`;
}

function _revoked(links: readonly ChainLink[], crl: CrlGuard): ChainLink | undefined {
  return links.find((link) => crl.isRevoked(link.serial, link.issuer));
}

interface Admitted {
  readonly identity: PeerIdentity;
  readonly leaf: x509.X509Certificate;
  readonly links: readonly ChainLink[];
  readonly remoteAddress: string;
}

export interface MtlsListener extends RunningListener {
  /**
   * Presents a new certificate and key from the next handshake on; connections already open
   * finish on the old pair.
   */
  setCertificate(certPem: string, keyPem: string): void;
}

/** Starts the listener; resolves once it accepts connections. */
export function startMtlsListener(options: MtlsListenerOptions): Promise<MtlsListener> {
  const { log, crl, ocsp } = options;
  const limits = options.limits ?? DEFAULT_LIMITS;
  const cas = options.caPems.map(trustedCa);
  // Read once per TLS connection: getPeerCertificate() per request halves throughput.
  const admitted = new WeakMap<object, Admitted>();
  const readKnown = peerReadings(cas);
  let backpressureWarned = false;
  const secureContext = (cert: string, key: string) => ({
    ca: [...options.caPems],
    cert,
    key,
    minVersion: "TLSv1.2" as const,
  });

  const server = createAdaptorServer({
    overrideGlobalObjects: false, // required while Deno.serve runs in the same process
    createServer: https.createServer,
    serverOptions: {
      requestCert: true,
      rejectUnauthorized: true,
      ...secureContext(options.serverCertPem, options.serverKeyPem),
      ...limitServerOptions(limits),
      // The guard closes a connection still in its handshake after handshakeTimeoutMs (and
      // counts it); node's own timer is the backstop.
      handshakeTimeout: limits.handshakeTimeoutMs + 1000,
    },
    fetch: closeWhenBodyUnread(async function handleMtlsRequest(
      request: Request,
      env: HttpBindings | Http2Bindings,
    ) {
      const socket = env.incoming.socket; // the TLSSocket vetConnection saw (HTTP/1.1 only)
      const peer = admitted.get(socket);
      if (peer === undefined) {
        // Fail closed: a connection that was not vetted never reaches a route.
        socket.destroy();
        return new Response(null, { status: 403 });
      }
      if (!await _stillAdmitted(peer, crl, ocsp, log)) {
        socket.destroy();
        return new Response(null, { status: 403 });
      }
      const incoming = (env as HttpBindings).incoming;
      return await options.fetch(request, {
        transport: {
          kind: "mtls",
          identity: peer.identity,
          remoteAddress: peer.remoteAddress,
          requestTimedOut: () => guard.timedOut(incoming),
        },
      });
    }),
  });
  // Every open connection (TCP, then TLS), so close() can end keep-alives.
  const sockets = trackSockets(server as https.Server);
  const guard = guardListener(server as https.Server, { ...options, limits, tls: true });
  const exempt = new Set(options.exemptCns ?? []);
  const notice = createNotice(log);

  function track(socket: Socket): void {
    if (sockets.has(socket)) return;
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  }

  server.on("secureConnection", function vetConnection(socket: TLSSocket) {
    track(socket);
    const remoteAddress = socket.remoteAddress ?? "";
    const refuse = (reason: string, fields: Record<string, unknown> = {}) => {
      log.warn("refused a client certificate", { reason, ...fields, peer: remoteAddress });
      socket.destroy(); // synchronous, inside the event: the HTTP parser has read nothing yet
    };
    if (!socket.authorized) return refuse(`chain not verified: ${socket.authorizationError}`);
    let known: KnownPeer;
    try {
      known = readKnown(socket.getPeerCertificate().raw);
    } catch (err) {
      return refuse("cannot read the peer certificate", { error: err });
    }
    const { reading, links, leaf } = known;
    if (!reading.ok || leaf === null) return refuse(reading.ok ? "unreadable" : reading.reason);
    const revoked = _revoked(links, crl);
    if (revoked !== undefined) {
      return refuse(revoked === links[0] ? "revoked by the CRL" : "issuing CA revoked by the CRL", {
        subject_cn: reading.identity.cn,
        serial: reading.identity.serial,
        revoked_subject: revoked.subject,
      });
    }
    const { identity } = reading;
    if (!guard.handshaken(socket, _capKey(identity, links, exempt))) return;
    admitted.set(socket, { identity, leaf, links, remoteAddress });
    // Ask now, while the request is still on its way; the handler waits for the same lookup.
    void ocsp?.check(leaf);
    if (!forwardTlsBackpressure(socket) && !backpressureWarned) {
      backpressureWarned = true;
      log.warn("cannot pause TLS reads at the TCP level; unread request data may pile up");
    }
  });
  server.on("tlsClientError", (err: Error, socket: TLSSocket) => {
    // No certificate, a foreign CA, a v1 certificate: the TLS layer refused it before us.
    notice("info", "TLS handshake refused", {
      reason: err.message,
      peer: socket.remoteAddress ?? null,
    });
  });

  return _listen(server as https.Server, {
    ...options,
    limits,
    secureContext,
    sockets,
    stats: () => guard.stats(),
  });
}

/**
 * Whether a connection admitted at its handshake may still be served: a keep-alive connection
 * outlives CRL updates, so the CRL is looked up again (set lookups), and OCSP is asked (or its
 * cached verdict read) before anything is served, on every request. Logs a refusal.
 */
async function _stillAdmitted(
  peer: Admitted,
  crl: CrlGuard,
  ocsp: OcspChecker | undefined,
  log: Logger,
): Promise<boolean> {
  const fields = {
    subject_cn: peer.identity.cn,
    serial: peer.identity.serial,
    peer: peer.remoteAddress,
  };
  const revoked = _revoked(peer.links, crl);
  if (revoked !== undefined) {
    log.warn("dropped a connection whose certificate was revoked after it opened", {
      ...fields,
      revoked_subject: revoked.subject,
    });
    return false;
  }
  const refusal = ocsp === undefined ? null : ocspRefusal(await ocsp.check(peer.leaf), ocsp.mode);
  if (refusal === null) return true;
  log.warn("refused a client certificate", { reason: refusal, ...fields });
  return false;
}

interface ListenOptions extends MtlsListenerOptions {
  readonly limits: ListenerLimits;
  readonly secureContext: (cert: string, key: string) => https.ServerOptions;
  readonly sockets: Set<Socket>;
  readonly stats: () => ReturnType<MtlsListener["connections"]>;
}

/** Listens; resolves with the running listener once it accepts connections. */
function _listen(server: https.Server, o: ListenOptions): Promise<MtlsListener> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    // A flood fills node's default accept queue (511) and the kernel drops SYNs, RM's too
    // (a retry 1 s later): a queue as long as the connection cap (the kernel caps it at
    // net.core.somaxconn) lets the guard, not the kernel, choose whom to refuse.
    server.listen(
      { port: o.port, host: o.hostname, backlog: o.limits.maxConnections },
      () => {
        server.off("error", reject);
        server.on("error", (err: Error) => o.log.error("mTLS listener error", { error: err }));
        const address = server.address();
        const port = typeof address === "object" && address !== null ? address.port : o.port;
        o.log.info("mTLS listener ready", { hostname: o.hostname, port });
        resolve({
          port,
          connections: () => o.stats(),
          setCertificate(certPem, keyPem) {
            server.setSecureContext(o.secureContext(certPem, keyPem));
            o.log.info("mTLS listener presents a new certificate from the next handshake on");
          },
          close: () =>
            new Promise<void>((done) => {
              server.close(() => done()); // stops accepting; calls back once sockets are gone
              for (const socket of o.sockets) socket.destroy();
            }),
        });
      },
    );
  });
}
