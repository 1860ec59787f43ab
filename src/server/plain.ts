/**
 * @module The plain HTTP listener (`HTTP_PORT`, `Deno.serve`): public endpoints, and the proxy
 * header mode when it is enabled. It reports the peer address; it never asserts an identity.
 */
import type { AppBindings } from "../http/env.ts";
import type { Logger } from "../log/logger.ts";

export interface PlainListenerOptions {
  readonly fetch: (request: Request, env: AppBindings) => Response | Promise<Response>;
  readonly hostname: string;
  readonly port: number;
  readonly log: Logger;
}

export interface RunningListener {
  /** The port actually bound (useful with port 0). */
  readonly port: number;
  close(): Promise<void>;
}

export function startPlainListener(options: PlainListenerOptions): Promise<RunningListener> {
  return new Promise((resolve, reject) => {
    try {
      const server = Deno.serve({
        hostname: options.hostname,
        port: options.port,
        onListen: function listening(addr) {
          options.log.info("plain HTTP listener ready", {
            hostname: addr.hostname,
            port: addr.port,
          });
          resolve({ port: addr.port, close: () => server.shutdown() });
        },
        onError: function failed(err) {
          options.log.error("plain HTTP handler failed", { error: err });
          return new Response(
            JSON.stringify({ success: false, error: "Internal error", extra: "internal" }),
            { status: 500, headers: { "content-type": "application/json" } },
          );
        },
      }, function handle(request, info) {
        const remoteAddress = info.remoteAddr.hostname;
        return options.fetch(request, { transport: { kind: "plain", remoteAddress } });
      });
    } catch (err) {
      reject(err);
    }
  });
}
