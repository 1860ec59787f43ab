/** @module Shared OpenAPI fragments for routes: the error responses every route may give. */
import { z } from "@hono/zod-openapi";
import { OperationResultResponse } from "../schemas.ts";

const MEANING: Record<number, string> = {
  400: "Malformed JSON",
  403: "Caller not allowed (no certificate, or not Rasenmaeher)",
  404: "Unknown route",
  409: "Refused on purpose: the person was revoked, and a revocation is final",
  413: "Body over 64 KiB",
  415: "Content-Type is not application/json",
  422: "Body or parameters fail validation; `error` names the field",
  503: "Not available now (nothing was changed or recorded)",
};

export type ErrorResponses = Record<number, {
  description: string;
  content: { "application/json": { schema: typeof OperationResultResponse } };
}>;

/** OpenAPI `responses` entries for the given error statuses, all in our one error shape. */
export function errorResponses(...statuses: number[]): ErrorResponses {
  return Object.fromEntries(statuses.map((status) => [status, {
    description: MEANING[status] ?? "Error",
    content: { "application/json": { schema: OperationResultResponse } },
  }]));
}

/**
 * The error entries of the Markdown route: RM's UI shows its body whatever the status, so errors
 * there are a short localised page (with the error's message last), not the JSON shape.
 */
export function markdownErrorResponses(...statuses: number[]): Record<number, {
  description: string;
  content: { "text/markdown": { schema: z.ZodString } };
}> {
  return Object.fromEntries(statuses.map((status) => [status, {
    description: `${MEANING[status] ?? "Error"}, as a page for the person`,
    content: { "text/markdown": { schema: z.string() } },
  }]));
}
