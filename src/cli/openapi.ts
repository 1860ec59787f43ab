/** @module The `openapi` command: the OpenAPI document, built from the routes without a service. */
import { parseConfig } from "../config/config.ts";
import { createApp } from "../http/app.ts";
import { openApiDocument } from "../http/routes/docs.ts";
import { createUnavailableLifecycle } from "../lifecycle/lifecycle.ts";
import { createLogger } from "../log/logger.ts";

/** The document as JSON text; it depends on the routes only, so a placeholder config builds them. */
export async function openApiJson(): Promise<string> {
  const docs = await parseConfig({ SYNAPSE_REGISTRATION_SECRET: "-" }, () => Promise.resolve(null));
  if (!docs.ok) throw new Error("documentation config is invalid");
  const app = createApp({
    config: docs.config,
    lifecycle: createUnavailableLifecycle(),
    health: () => ({ healthy: false, extra: null }),
    status: () => {
      throw new Error("not served by the openapi command");
    },
    metrics: () => Promise.resolve(""),
    reconcile: () => Promise.resolve(null),
    log: createLogger({ level: "error" }),
  });
  return JSON.stringify(openApiDocument(app), null, 2) + "\n";
}
