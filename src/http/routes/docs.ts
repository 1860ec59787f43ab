/**
 * @module The generated OpenAPI document and a Swagger UI page whose assets are embedded in the
 * service, so the docs work in deployments with no internet access.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../deps.ts";
import { errorResponses } from "./common.ts";
import { SERVICE_VERSION } from "../../version.ts";
import { caller } from "../callers.ts";

export const OPENAPI_PATH = "/api/openapi.json";

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>matrixrmapi API</title>
<link rel="stylesheet" href="/api/docs/swagger-ui.css">
</head>
<body>
<div id="ui"></div>
<script src="/api/docs/swagger-ui-bundle.js"></script>
<script src="/api/docs/init.js"></script>
</body>
</html>
`;
// A separate script file (not inline) so a strict Content-Security-Policy can stay strict.
const INIT = `window.ui = SwaggerUIBundle({ url: ${
  JSON.stringify(OPENAPI_PATH)
}, dom_id: "#ui" });\n`;
const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'";

export function openApiDocument(app: App): ReturnType<App["getOpenAPI31Document"]> {
  return app.getOpenAPI31Document({
    openapi: "3.1.0",
    info: {
      title: "matrixrmapi",
      version: SERVICE_VERSION,
      description: "Matrix/Synapse integration API of the PVARKI Deploy App (Rasenmaeher).",
    },
  });
}

const ASSETS: Record<string, readonly [body: () => Promise<string>, type: string]> = {
  "swagger-ui.css": [
    async () => (await import("./docs_assets.ts")).swaggerCss,
    "text/css; charset=utf-8",
  ],
  "swagger-ui-bundle.js": [
    async () => (await import("./docs_assets.ts")).swaggerJs,
    "text/javascript; charset=utf-8",
  ],
  "init.js": [() => Promise.resolve(INIT), "text/javascript; charset=utf-8"],
};

const text = (type: string, description: string) => ({
  description,
  content: { [type]: { schema: z.string() } },
});

export function registerDocsRoutes(app: App): void {
  app.openapi(
    createRoute({
      method: "get",
      path: OPENAPI_PATH,
      tags: ["docs"],
      summary: "This OpenAPI document",
      ...caller("public"),
      responses: {
        200: {
          description: "OpenAPI 3.1",
          content: { "application/json": { schema: z.object({}).loose() } },
        },
      },
    }),
    function openapi(c) {
      // The document is plain JSON; its declared type is wider than Hono's JSON value type.
      return c.json(openApiDocument(app) as unknown as Record<string, never>, 200);
    },
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/docs",
      tags: ["docs"],
      summary: "Interactive API docs (Swagger UI, served offline)",
      ...caller("public"),
      responses: { 200: text("text/html", "HTML page") },
    }),
    function docsPage(c) {
      c.header("Content-Security-Policy", CSP);
      return c.html(PAGE, 200);
    },
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/docs/{asset}",
      tags: ["docs"],
      summary: "Assets of the docs page",
      ...caller("public"),
      request: {
        params: z.object({
          asset: z.enum(Object.keys(ASSETS) as [string, ...string[]]).openapi({
            param: { name: "asset", in: "path" },
          }),
        }),
      },
      responses: {
        200: {
          description: "The stylesheet or script",
          content: {
            "text/css; charset=utf-8": { schema: z.string() },
            "text/javascript; charset=utf-8": { schema: z.string() },
          },
        },
        ...errorResponses(422),
      },
    }),
    async function docsAsset(c) {
      const [body, type] = ASSETS[c.req.valid("param").asset]!;
      c.header("Content-Type", type);
      c.header("Cache-Control", "public, max-age=86400");
      return c.body(await body(), 200);
    },
  );
}
