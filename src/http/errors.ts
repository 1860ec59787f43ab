/**
 * @module Our API's one error vocabulary: a code enum, its exhaustive code → status table, the
 * `ApiError` routes throw, and the handler that renders every failure in the contract's shape.
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { Logger } from "../log/logger.ts";
import type { Transport } from "../transport/bindings.ts";

export type ErrorCode =
  | "malformed_json"
  | "forbidden"
  | "not_found"
  | "method_not_allowed"
  | "request_timeout"
  | "payload_too_large"
  | "unsupported_media_type"
  | "conflict"
  | "invalid_request"
  | "unavailable"
  | "internal";

const STATUS: Record<ErrorCode, ContentfulStatusCode> = {
  malformed_json: 400,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  request_timeout: 408,
  payload_too_large: 413,
  unsupported_media_type: 415,
  conflict: 409,
  invalid_request: 422,
  unavailable: 503,
  internal: 500,
};

/** An expected failure; `message` is shown to the caller, so it must never carry a secret. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly status: ContentfulStatusCode;
  /** Headers the answer carries (e.g. `Allow` with a 405). */
  readonly headers: Readonly<Record<string, string>>;
  constructor(
    code: ErrorCode,
    message: string,
    options?: { cause?: unknown; headers?: Record<string, string> },
  ) {
    super(message, options);
    this.name = "ApiError";
    this.code = code;
    this.status = STATUS[code];
    this.headers = options?.headers ?? {};
  }
}

/**
 * The body every error gets: the contract's `OperationResultResponse`, so RM (which forbids
 * extra fields) can parse it, with the machine-readable code in `extra`.
 */
export interface ErrorBody {
  success: false;
  error: string;
  extra: ErrorCode;
}

export function errorBody(err: ApiError): ErrorBody {
  return { success: false, error: err.message, extra: err.code };
}

/** Turns anything thrown into an ApiError; unknown errors become `internal` without details. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof HTTPException) {
    // Hono's own validators and middleware throw these (e.g. "Malformed JSON in request body").
    const code = (Object.keys(STATUS) as ErrorCode[]).find((k) => STATUS[k] === err.status);
    const message = err.status === 400 ? "Cannot parse request body: malformed JSON" : err.message;
    return new ApiError(code ?? "internal", message, { cause: err });
  }
  return new ApiError("internal", "Internal error; see the service log", { cause: err });
}

/** Builds the app's `onError` handler. */
export function createErrorHandler(log: Logger): (err: Error, c: Context) => Response {
  return function renderError(err: Error, c: Context): Response {
    // The listener gave up on a stalled body (answered 408 and logged it with the peer):
    // whatever reading it threw — "aborted", malformed JSON — is the client's delay, not our
    // failure; the request log line says 408 at info.
    const transport = (c.env as { transport?: Transport } | undefined)?.transport;
    if (transport?.requestTimedOut?.() === true) {
      const timeout = new ApiError("request_timeout", "The request body did not arrive in time", {
        headers: { connection: "close" },
      });
      return c.json(errorBody(timeout), timeout.status, { ...timeout.headers });
    }
    const apiError = toApiError(err);
    if (apiError.code === "internal") {
      log.error("request failed", { path: c.req.path, error: apiError.cause ?? err });
    }
    return c.json(errorBody(apiError), apiError.status, { ...apiError.headers });
  };
}
