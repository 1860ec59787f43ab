/**
 * @module A fault-injecting Synapse stand-in for the fast tier: real HTTP on loopback, the
 * in-memory homeserver of `fake_synapse_model.ts`, every request recorded, and scripted faults
 * (rate limits, 5xx, slowness, lost tokens, bad bodies, dropped connections). What Synapse itself
 * does is tested against the real server; this is for the failures a real server rarely shows.
 */
import { createHomeserverModel, type HomeserverModel, matrixError } from "./fake_synapse_model.ts";

export type { FakeRoom, FakeUser, StateEvent } from "./fake_synapse_model.ts";

export type Fault =
  /** 429 `M_LIMIT_EXCEEDED` with `retry_after_ms`. */
  | { readonly kind: "limit"; readonly retryAfterMs: number }
  /** A Matrix error body when `errcode` is given, else a plain-text body, as a proxy sends. */
  | { readonly kind: "error"; readonly status: number; readonly errcode?: string }
  /** 401 `M_UNKNOWN_TOKEN`, whatever the token. */
  | { readonly kind: "unknownToken" }
  /** Waits `ms` (or until the stand-in is disposed), then answers normally. */
  | { readonly kind: "delay"; readonly ms: number }
  /** Any status and body text: malformed JSON, an HTML error page. */
  | {
    readonly kind: "raw";
    readonly status?: number;
    readonly body: string;
    readonly type?: string;
  }
  /** Valid JSON of any shape. */
  | { readonly kind: "json"; readonly status?: number; readonly json: unknown }
  /** The real answer's headers and half its body, then the connection is cut. */
  | { readonly kind: "drop" }
  /** The real answer's headers and half its body, the rest after `ms`. */
  | { readonly kind: "stall"; readonly ms: number };

export interface FaultRule {
  /** @default any method */
  readonly method?: string;
  /** Matched against the raw path, IDs still URL-encoded. */
  readonly path: RegExp;
  /** How many matching requests get the fault; later ones are answered normally. @default 1 */
  readonly times?: number;
  readonly fault: Fault;
}

export interface RecordedRequest {
  readonly method: string;
  /** The raw path, IDs URL-encoded as they went over the wire. */
  readonly path: string;
  readonly search: string;
  /** The bearer token sent, or `null` without one. */
  readonly token: string | null;
}

export interface FakeSynapse extends AsyncDisposable, Omit<HomeserverModel, "answer"> {
  readonly url: string;
  readonly serverName: string;
  /** Every request, in arrival order (faulted ones included). */
  readonly requests: readonly RecordedRequest[];
  /** Scripts a fault; rules are tried in the order they were added. */
  fault(rule: FaultRule): void;
  /** Faulted answers still to come. */
  readonly pendingFaults: number;
  /** Requests with `method` whose raw path matches `path`. */
  count(method: string, path: RegExp): number;
}

export interface FakeSynapseOptions {
  /** @default "fake.test" */
  readonly serverName?: string;
  /** Enables shared-secret registration. @default off */
  readonly registrationSecret?: string;
}

/** Starts the stand-in on a port the OS picks; `await using` stops it. */
export function startFakeSynapse(options: FakeSynapseOptions = {}): FakeSynapse {
  const serverName = options.serverName ?? "fake.test";
  const model = createHomeserverModel(serverName, options.registrationSecret);
  const requests: RecordedRequest[] = [];
  const rules: Array<FaultRule & { left: number }> = [];
  const closing = new AbortController();

  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    function fakeSynapse(request) {
      const url = new URL(request.url);
      const token = request.headers.get("authorization")?.match(/^Bearer (.*)$/)?.[1] ?? null;
      requests.push({ method: request.method, path: url.pathname, search: url.search, token });
      const real = () => model.answer(request, url, token);
      const rule = rules.find((r) =>
        r.left > 0 && (r.method ?? request.method) === request.method && r.path.test(url.pathname)
      );
      if (rule === undefined) return real();
      rule.left--;
      return _faulted(rule.fault, real, closing.signal);
    },
  );

  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    serverName,
    requests,
    users: model.users,
    rooms: model.rooms,
    tokens: model.tokens,
    addUser: model.addUser,
    addRoom: model.addRoom,
    members: model.members,
    fault: (rule) => void rules.push({ ...rule, left: rule.times ?? 1 }),
    get pendingFaults() {
      return rules.reduce((n, r) => n + r.left, 0);
    },
    count: (method, path) =>
      requests.filter((r) => r.method === method && path.test(r.path)).length,
    async [Symbol.asyncDispose]() {
      closing.abort(); // ends every scripted wait, so shutdown does not wait for them
      await server.shutdown();
    },
  };
}

async function _faulted(
  f: Fault,
  real: () => Promise<Response>,
  signal: AbortSignal,
): Promise<Response> {
  switch (f.kind) {
    case "limit":
      return matrixError(429, "M_LIMIT_EXCEEDED", "Too Many Requests", f.retryAfterMs);
    case "error":
      return f.errcode === undefined
        ? new Response("<html><body>Bad Gateway</body></html>", { status: f.status })
        : matrixError(f.status, f.errcode, "Scripted failure");
    case "unknownToken":
      return matrixError(401, "M_UNKNOWN_TOKEN", "Invalid access token passed.");
    case "delay":
      await _pause(f.ms, signal);
      return real();
    case "raw":
      return new Response(f.body, {
        status: f.status ?? 200,
        headers: { "content-type": f.type ?? "application/json" },
      });
    case "json":
      return Response.json(f.json, { status: f.status ?? 200 });
    case "drop":
    case "stall": {
      const r = await real();
      const bytes = new Uint8Array(await r.arrayBuffer());
      const half = Math.floor(bytes.length / 2);
      const body = new ReadableStream<Uint8Array>({
        async start(controller) {
          controller.enqueue(bytes.slice(0, half));
          if (f.kind === "stall") await _pause(f.ms, signal);
          try {
            if (f.kind === "stall") controller.enqueue(bytes.slice(half));
            controller.close();
          } catch { /* the client went away meanwhile */ }
        },
      });
      // A drop ends the body short of its content-length: the server cuts the connection (an
      // erroring stream would do the same, but Deno logs its error).
      const headers = new Headers(r.headers);
      headers.set("content-length", String(bytes.length + (f.kind === "drop" ? 1 : 0)));
      return new Response(body, { status: r.status, headers });
    }
  }
}

/** Resolves after `ms`, or as soon as `signal` aborts; leaves no timer behind. */
function _pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    if (signal.aborted) done();
    else signal.addEventListener("abort", done);
  });
}
