/**
 * @module Product descriptions for RM's product lists: v1, v2 (with the UI component) and the
 * v2 admin description. Unknown languages get English and say so in `language`.
 */
import { createRoute, type z } from "@hono/zod-openapi";
import type { App, AppDeps } from "../deps.ts";
import { LanguageParam, ProductDescription, ProductDescriptionExtended } from "../schemas.ts";
import { pickLanguage } from "../content/language.ts";
import { PRODUCT } from "../content/texts.ts";
import { deploymentFacts, infoMarkdownRef, logoRef } from "../content/facts.ts";
import { matrixGuideUrl } from "../content/render.ts";
import { errorResponses } from "./common.ts";
import { caller } from "../callers.ts";

const SHORTNAME = "matrix";

function _describe(path: string, summary: string, schema: z.ZodType) {
  return createRoute({
    method: "get",
    path,
    tags: ["descriptions"],
    summary,
    ...caller("public", "Languages: fi, sv, en; others fall back to en (see `language`)."),
    request: { params: LanguageParam },
    responses: {
      200: { description: summary, content: { "application/json": { schema } } },
      ...errorResponses(422),
    },
  });
}

export function registerDescriptionRoutes(app: App, deps: AppDeps): void {
  const facts = deploymentFacts(deps.config);

  app.openapi(
    _describe("/api/v1/description/{lang}", "Product description (v1)", ProductDescription),
    function describeV1(c) {
      const lang = pickLanguage(c.req.valid("param").lang);
      const t = PRODUCT[lang];
      return c.json({
        shortname: SHORTNAME,
        title: t.title,
        icon: logoRef(facts),
        description: t.description,
        language: lang,
      }, 200);
    },
  );

  for (const admin of [false, true]) {
    const path = admin ? "/api/v2/admin/description/{lang}" : "/api/v2/description/{lang}";
    const summary = admin ? "Admin product description (v2)" : "Product description (v2)";
    app.openapi(
      _describe(path, summary, ProductDescriptionExtended),
      function describeV2(c) {
        const lang = pickLanguage(c.req.valid("param").lang);
        const t = PRODUCT[lang];
        return c.json({
          shortname: SHORTNAME,
          title: t.title,
          icon: logoRef(facts),
          description: admin ? t.adminDescription : t.description,
          language: lang,
          // The ecosystem's Matrix guide (the Python original links the same page).
          docs: matrixGuideUrl(lang),
          // Something we really serve: RM's UI fetches this through RM's product proxy and
          // renders the Markdown with the person's own Matrix ID in it.
          component: { type: "markdown" as const, ref: infoMarkdownRef(facts, lang) },
        }, 200);
      },
    );
  }
}
