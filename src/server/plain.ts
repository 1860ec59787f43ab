/**
 * @module The plain HTTP listener (`HTTP_PORT`): public endpoints, and the proxy header mode
 * when it is enabled. It reports the peer address; it never asserts an identity. It is
 * node:http through @hono/node-server, not `Deno.serve`, for what `Deno.serve` cannot do:
 * header, request and idle timeouts and connection budgets (`limits.ts`, `guard.ts`).
 */
import type { CidrBlock } from "../config/cidr.ts";
import http from "node:http";
import { createAdaptorServer, type Http2Bindings, type HttpBindings } from "@hono/node-server";
import type { AppBindings } from "../transport/bindings.ts";
import type { Logger } from "../log/logger.ts";
import {
  closeWhenBodyUnread,
  DEFAULT_LIMITS,
  limitServerOptions,
  type ListenerLimits,
  trackSockets,
} from "./limits.ts";
import { type ConnectionEvent, guardListener } from "./guard.ts";
import type { AdmissionStats } from "./admission.ts";

export interface PlainListenerOptions {
  readonly fetch: (request: Request, env: AppBindings) => Response | Promise<Response>;
  readonly hostname: string;
  readonly port: number;
  readonly log: Logger;
  /** Timeouts and connection budgets. @default DEFAULT_LIMITS */
  readonly limits?: ListenerLimits;
  /** Addresses held to the overall cap only (RM, its proxies). @default none */
  readonly priorityAddresses?: readonly CidrBlock[];
  /** Each refused or timed-out connection, for the metrics. */
  readonly onConnectionEvent?: (event: ConnectionEvent) => void;
}

export interface RunningListener {
  /** The port actually bound (useful with port 0). */
  readonly port: number;
  /** Connections open now, by the guard's bookkeeping. */
  connections(): AdmissionStats;
  close(): Promise<void>;
}

/** How long close() lets requests in progress finish before it ends their connections. */
const CLOSE_GRACE_MS = 2000;

/** Starts the listener; resolves once it accepts connections. */
export function startPlainListener(options: PlainListenerOptions): Promise<RunningListener> {
  const { log } = options;
  const limits = options.limits ?? DEFAULT_LIMITS;
  const server = createAdaptorServer({
    overrideGlobalObjects: false, // the process's own Request/Response stay Deno's
    createServer: http.createServer,
    serverOptions: limitServerOptions(limits),
    fetch: closeWhenBodyUnread(async function handlePlainRequest(
      request: Request,
      env: HttpBindings | Http2Bindings, // HTTP/1.1 only: node:http serves no HTTP/2
    ) {
      const { incoming } = env as HttpBindings;
      const remoteAddress = incoming.socket.remoteAddress ?? "";
      const requestTimedOut = () => guard.timedOut(incoming);
      try {
        return await options.fetch(request, {
          transport: { kind: "plain", remoteAddress, requestTimedOut },
        });
      } catch (err) {
        log.error("plain HTTP handler failed", { error: err });
        return new Response(
          JSON.stringify({ success: false, error: "Internal error", extra: "internal" }),
          { status: 500, headers: { "content-type": "application/json" } },
        );
      }
    }),
  }) as http.Server;
  const sockets = trackSockets(server);
  const guard = guardListener(server, { ...options, limits, tls: false });

  return new Promise((resolve, reject) => {
    server.once("error", reject);
    // A flood fills node's default accept queue (511) and the kernel drops SYNs, RM's too
    // (a retry 1 s later): a queue as long as the connection cap (the kernel caps it at
    // net.core.somaxconn) lets the guard, not the kernel, choose whom to refuse.
    server.listen(
      { port: options.port, host: options.hostname, backlog: limits.maxConnections },
      () => {
        server.off("error", reject);
        server.on("error", (err: Error) => log.error("plain HTTP listener error", { error: err }));
        const address = server.address();
        const port = typeof address === "object" && address !== null ? address.port : options.port;
        log.info("plain HTTP listener ready", { hostname: options.hostname, port });
        resolve({
          port,
          connections: () => guard.stats(),
          close: () =>
            new Promise<void>((done) => {
              // Stop accepting and end idle keep-alives; requests in progress get a moment.
              server.close(() => {
                clearTimeout(grace);
                done();
              });
              server.closeIdleConnections();
              const grace = setTimeout(() => {
                for (const socket of sockets) socket.destroy();
              }, CLOSE_GRACE_MS);
            }),
        });
      },
    );
  });
}
