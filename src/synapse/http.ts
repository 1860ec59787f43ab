/**
 * @module The one HTTP client for Synapse (a ky instance), and `SynapseError`: every unexpected
 * answer becomes one error carrying status, `errcode` and `retryAfterMs`; replies are parsed
 * with zod, never trusted.
 */
import type { Registry } from "../metrics/registry.ts";
import ky, { type KyInstance } from "ky";
import { z } from "zod";

/** A Synapse failure. Code branches on `errcode` and `status`, never on `message`. */
export class SynapseError extends Error {
  override name = "SynapseError";
  constructor(
    /** HTTP status; 0 when Synapse could not be reached. */
    readonly status: number,
    /** Matrix `errcode`, or `M_CONNECTION_FAILED` / `M_BAD_REPLY` for our own cases. */
    readonly errcode: string,
    message: string,
    /** Synapse's `retry_after_ms`, when it asked us to wait. */
    readonly retryAfterMs: number | null,
    /** A label of the call, e.g. `POST /_synapse/admin/v1/register`. */
    readonly endpoint: string,
  ) {
    super(`${endpoint} failed: ${status === 0 ? "" : `HTTP ${status} `}${errcode}: ${message}`);
  }
}

const ErrorBody = z.object({
  errcode: z.string().optional(),
  error: z.string().optional(),
  retry_after_ms: z.number().int().nonnegative().optional(),
});

export interface CallOptions<T> {
  readonly method: "GET" | "POST" | "PUT" | "DELETE";
  /** Path with every ID already URL-encoded (use `enc`). */
  readonly path: string;
  readonly schema: z.ZodType<T>;
  readonly json?: unknown;
  readonly searchParams?: Record<string, string>;
}

/** Calls Synapse as one account: the bot's session, or a token the bootstrap is trying out. */
export interface SynapseCaller {
  /** Resolves with the parsed reply or rejects with a SynapseError. */
  call<T>(options: CallOptions<T>): Promise<T>;
}

export interface SynapseHttp {
  readonly baseUrl: string;
  /** Calls Synapse; resolves with the parsed reply or rejects with a SynapseError. */
  call<T>(token: string | null, options: CallOptions<T>): Promise<T>;
  /** A caller with a fixed token: for the bootstrap, before the bot's session has one. */
  as(token: string | null): SynapseCaller;
}

/**
 * Synapse's "no such thing" (404 `M_NOT_FOUND`). A 404 with another errcode — `M_UNRECOGNIZED`
 * from a proxy that does not route the admin API, say — is a failure, never "missing".
 */
export function notFound(err: unknown): boolean {
  return err instanceof SynapseError && err.status === 404 && err.errcode === "M_NOT_FOUND";
}

/** URL-encodes one path segment: Matrix IDs contain `@ : # !` and more. */
export const enc = (segment: string): string => encodeURIComponent(segment);

export interface SynapseHttpOptions {
  readonly baseUrl: string;
  /** Per-request timeout. @default 15000 */
  readonly timeoutMs?: number;
  /** Counts every request and its duration by endpoint and status (the service's `/metrics`). */
  readonly metrics?: Registry;
  /** Called after every request (tests that watch the calls). */
  readonly onResponse?: (endpoint: string, status: number, ms: number) => void;
}

export function createSynapseHttp(options: SynapseHttpOptions): SynapseHttp {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const answered = (endpoint: string, status: number, ms: number) => {
    options.metrics?.inc("matrixrmapi_synapse_requests_total", {
      endpoint,
      status: String(status),
    });
    options.metrics?.observe("matrixrmapi_synapse_request_seconds", ms / 1000, { endpoint });
    options.onResponse?.(endpoint, status, ms);
  };
  const client: KyInstance = ky.create({
    prefix: options.baseUrl.replace(/\/*$/, "/"),
    // ky's timeout ends at the headers; the signal below bounds the body as well.
    timeout: timeoutMs,
    // Retries are decided by callers that know whether an operation is idempotent.
    retry: 0,
    throwHttpErrors: false,
  });
  const http: SynapseHttp = {
    baseUrl: options.baseUrl,
    as: (token) => ({ call: (o) => http.call(token, o) }),
    async call(token, o) {
      const endpoint = `${o.method} ${o.path.replace(/\/(@|!|%40|%21|%23)[^/]*/g, "/{id}")}`;
      const started = performance.now();
      let response: Response;
      let text: string;
      try {
        response = await client(o.path.replace(/^\//, ""), {
          method: o.method,
          ...(o.json === undefined ? {} : { json: o.json }),
          ...(o.searchParams ? { searchParams: o.searchParams } : {}),
          headers: token === null ? {} : { authorization: `Bearer ${token}` },
          signal: AbortSignal.timeout(timeoutMs),
        });
        // A connection cut or stalled after the headers is a failed call like any other.
        text = await response.text();
      } catch (err) {
        answered(endpoint, 0, performance.now() - started);
        const message = err instanceof DOMException && err.name === "TimeoutError"
          ? `no complete answer within ${timeoutMs} ms`
          : (err as Error).message;
        throw new SynapseError(0, "M_CONNECTION_FAILED", message, null, endpoint);
      }
      answered(endpoint, response.status, performance.now() - started);
      let body: unknown = null;
      try {
        body = text.length > 0 ? JSON.parse(text) : null;
      } catch {
        body = null;
      }
      if (!response.ok) {
        const e = ErrorBody.safeParse(body);
        const parsed = e.success ? e.data : {};
        throw new SynapseError(
          response.status,
          parsed.errcode ?? `HTTP_${response.status}`,
          parsed.error ?? text.slice(0, 200),
          parsed.retry_after_ms ?? null,
          endpoint,
        );
      }
      const result = o.schema.safeParse(body);
      if (!result.success) {
        throw new SynapseError(
          response.status,
          "M_BAD_REPLY",
          `unexpected reply: ${z.prettifyError(result.error).slice(0, 300)}`,
          null,
          endpoint,
        );
      }
      return result.data;
    },
  };
  return http;
}
