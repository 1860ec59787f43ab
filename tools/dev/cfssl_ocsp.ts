/**
 * @module The test PKI's OCSP responder: `cfssl ocspserve` on the certificate database, answers
 * re-signed by `cfssl ocsprefresh` with the responder certificate (as ocsprest's refresher does),
 * behind a proxy that counts requests and can play an unreachable or lying responder.
 */
import type { CfsslBins } from "../cfssl/install.ts";
import { runCfssl } from "../cfssl/run.ts";

/** What the proxy does with the next requests. */
export type ResponderMode =
  | "pass"
  | "hang"
  | "http-error"
  | { readonly answer: Uint8Array };

export interface OcspProxy {
  /** The responder URL written into every leaf's AIA. */
  readonly url: string;
  /** `http://127.0.0.1:<port>` */
  readonly base: string;
  /** OCSP requests that reached the proxy. */
  readonly requests: number;
  mode: ResponderMode;
  /** `cfssl ocsprefresh`: signs a current answer for every certificate in the database. */
  refresh(): Promise<void>;
  close(): Promise<void>;
}

interface ProxyOptions {
  readonly bins: CfsslBins;
  readonly dbConfig: string;
  readonly dir: string;
  /** The cached CA's folder (intermediate.pem, ocsp.pem, ocsp-key.pem). */
  readonly ca: string;
}

/** Starts the proxy at once; `cfssl ocspserve` starts with the first request it passes on. */
export function startOcspProxy(options: ProxyOptions): OcspProxy {
  let requests = 0;
  let mode: ResponderMode = "pass";
  let serve: { child: Deno.ChildProcess; port: number } | null = null;
  let starting: Promise<number> | null = null;
  const closing = Promise.withResolvers<void>();

  async function backend(): Promise<number> {
    if (serve !== null) return serve.port;
    starting ??= (async () => {
      const port = _freePort();
      const child = new Deno.Command(options.bins.cfssl, {
        args: [
          "ocspserve",
          "-address=127.0.0.1",
          `-port=${port}`,
          `-db-config=${options.dbConfig}`,
        ],
        cwd: options.dir,
        stdout: "null",
        stderr: "null",
      }).spawn();
      serve = { child, port };
      await _accepting(port);
      return port;
    })();
    return await starting;
  }

  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async function ocspProxy(request) {
      const body = new Uint8Array(await request.arrayBuffer());
      requests++;
      const now = mode;
      if (now === "http-error") return new Response("responder down", { status: 503 });
      if (now === "hang") {
        await closing.promise; // the client gives up first; close() lets the handler end
        return new Response(null, { status: 504 });
      }
      if (typeof now === "object") {
        return new Response(new Uint8Array(now.answer), {
          headers: { "content-type": "application/ocsp-response" },
        });
      }
      const port = await backend();
      const answer = await fetch(`http://127.0.0.1:${port}/`, {
        method: "POST",
        headers: { "content-type": "application/ocsp-request" },
        body,
      });
      return new Response(await answer.arrayBuffer(), {
        status: answer.status,
        headers: { "content-type": "application/ocsp-response" },
      });
    },
  );
  const base = `http://127.0.0.1:${server.addr.port}`;
  return {
    url: `${base}/ca/ocsp`,
    base,
    get requests() {
      return requests;
    },
    get mode() {
      return mode;
    },
    set mode(next) {
      mode = next;
    },
    async refresh() {
      await runCfssl(options.bins, [
        "ocsprefresh",
        `-db-config=${options.dbConfig}`,
        `-ca=${options.ca}/intermediate.pem`,
        `-responder=${options.ca}/ocsp.pem`,
        `-responder-key=${options.ca}/ocsp-key.pem`,
        "-interval=1h", // ocsprest's ocsp_lifetime
      ], options.dir);
    },
    async close() {
      closing.resolve();
      await server.shutdown();
      const running = serve as { child: Deno.ChildProcess } | null;
      if (running !== null) {
        running.child.kill("SIGTERM");
        await running.child.status;
      }
    },
  };
}

function _freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function _accepting(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`cfssl ocspserve did not listen on ${port} within 5 s`);
}
