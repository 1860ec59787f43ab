/**
 * @module The mTLS listener (`MTLS_PORT`): `node:https` inside Deno — the only module that uses
 * `node:*` — because `Deno.serve` cannot ask for or verify client certificates. The handshake
 * verifies the chain; this module adds the CRL check and derives the identity once per connection.
 */
import https from "node:https";
import type { TLSSocket } from "node:tls";
import type { Socket } from "node:net";
import { createAdaptorServer, type HttpBindings } from "@hono/node-server";
import type { AppBindings, PeerIdentity } from "../http/env.ts";
import { formatDistinguishedName, type Rdn } from "../http/dn.ts";
import type { Logger } from "../log/logger.ts";
import type { CrlGuard } from "./crl.ts";
import type { RunningListener } from "./plain.ts";
import { normaliseSerial } from "./serial.ts";
import * as x509 from "./x509.ts";

export interface MtlsListenerOptions {
  readonly fetch: (request: Request, env: AppBindings) => Response | Promise<Response>;
  readonly hostname: string;
  /** 0 = any free port (see the returned `port`). */
  readonly port: number;
  readonly serverCertPem: string;
  readonly serverKeyPem: string;
  /** CA certificates client certificates must chain to. */
  readonly caPems: readonly string[];
  readonly crl: CrlGuard;
  readonly log: Logger;
}

// Short names for the attribute types people read in DNs (RFC 4514 §3 plus the usual extras).
const SHORT: Record<string, string> = {
  "2.5.4.3": "CN",
  "2.5.4.6": "C",
  "2.5.4.7": "L",
  "2.5.4.8": "ST",
  "2.5.4.10": "O",
  "2.5.4.11": "OU",
  "0.9.2342.19200300.100.1.1": "UID",
  "0.9.2342.19200300.100.1.25": "DC",
  "1.2.840.113549.1.9.1": "E",
};

/** Reads the identity of a verified peer certificate; `null` (with a reason) if it must be refused. */
export function identityFromCertificate(
  raw: Uint8Array<ArrayBuffer>,
  crl: CrlGuard,
): { identity: PeerIdentity } | { refused: string } {
  const cert = new x509.X509Certificate(raw);
  // TLS refuses X.509 v1 client certificates today; check anyway so a library change cannot
  // silently admit a certificate without extensions (no key usage, no constraints).
  if (cert.extensions.length === 0) return { refused: "X.509 v1 certificate (no extensions)" };
  const issuer = cert.issuerName.toString();
  if (crl.isRevoked(cert.serialNumber, issuer)) return { refused: "revoked by the CRL" };
  const rdns: Rdn[] = cert.subjectName.toJSON().map((rdn) =>
    Object.entries(rdn).flatMap(([type, values]) =>
      values.map((value) => ({ type: SHORT[type] ?? type, value }))
    )
  ).reverse(); // certificates store the most general RDN first; RFC 4514 prints it last
  const cn = rdns.flat().find((a) => a.type === "CN")?.value;
  if (cn === undefined) return { refused: "no CN in the subject" };
  return {
    identity: {
      cn,
      dn: formatDistinguishedName(rdns),
      serial: normaliseSerial(cert.serialNumber),
      via: "mtls",
    },
  };
}

export function startMtlsListener(options: MtlsListenerOptions): Promise<RunningListener> {
  const { log, crl } = options;
  const identities = new WeakMap<object, PeerIdentity>();
  const sockets = new Set<Socket>();

  const server = createAdaptorServer({
    overrideGlobalObjects: false, // required while Deno.serve runs in the same process
    createServer: https.createServer,
    serverOptions: {
      requestCert: true,
      rejectUnauthorized: true,
      ca: [...options.caPems],
      cert: options.serverCertPem,
      key: options.serverKeyPem,
      minVersion: "TLSv1.2",
    },
    fetch: function handleMtls(request: Request, env: unknown) {
      const socket = (env as HttpBindings).incoming.socket;
      const identity = identities.get(socket);
      if (identity === undefined) {
        // Fail closed: a connection we did not vet never reaches a route.
        socket.destroy();
        return new Response(null, { status: 403 });
      }
      return options.fetch(request, {
        transport: { kind: "mtls", identity, remoteAddress: socket.remoteAddress ?? "" },
      });
    },
  });

  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  server.on("secureConnection", function vetConnection(socket: TLSSocket) {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    try {
      const peer = socket.getPeerCertificate(true);
      const checked = identityFromCertificate(new Uint8Array(peer.raw), crl);
      // The CA certificates in the chain are checked too: a revoked intermediate revokes all.
      let link = peer.issuerCertificate;
      while (!("refused" in checked) && link && link !== link.issuerCertificate) {
        const ca = new x509.X509Certificate(new Uint8Array(link.raw));
        if (crl.isRevoked(ca.serialNumber, ca.issuerName.toString())) {
          log.warn("refused a client whose issuing CA is revoked", { ca: ca.subject });
          socket.destroy();
          return;
        }
        link = link.issuerCertificate;
      }
      if ("refused" in checked) {
        log.warn("refused a client certificate", {
          reason: checked.refused,
          serial: normaliseSerial(peer.serialNumber ?? ""),
          subject_cn: peer.subject?.CN ?? null,
          peer: socket.remoteAddress,
        });
        socket.destroy();
        return;
      }
      identities.set(socket, checked.identity);
    } catch (err) {
      log.error("cannot read a client certificate; connection refused", { error: err });
      socket.destroy();
    }
  });
  server.on("tlsClientError", (err: Error, socket: TLSSocket) => {
    log.info("TLS handshake refused", { reason: err.message, peer: socket.remoteAddress });
  });

  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.hostname, () => {
      server.off("error", reject);
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : options.port;
      log.info("mTLS listener ready", { hostname: options.hostname, port });
      resolve({
        port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            for (const socket of sockets) socket.destroy();
          }),
      });
    });
  });
}
