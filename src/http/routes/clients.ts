/**
 * @module What a person's client needs: login instructions, the v2 UI data (user and admin),
 * the Markdown info page reached through RM's proxy, and the two deprecated fragments.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { App, AppDeps } from "../deps.ts";
import {
  ClientDataResponse,
  ClientFile,
  InstructionsResponse,
  LanguageParam,
  UserCRUDRequest,
  UserInstructionFragment,
} from "../schemas.ts";
import { caller } from "../callers.ts";
import { type Language, pickLanguage } from "../content/language.ts";
import {
  adminFragmentHtml,
  infoMarkdown,
  type LoginFacts,
  loginInstructions,
} from "../content/texts.ts";
import type { PageFacts } from "../content/render.ts";
import {
  type DeploymentFacts,
  deploymentFacts,
  INFO_PAGE_PATH,
  LOGO_PATH,
  userIdOf,
} from "../content/facts.ts";
import { LOGO_SVG } from "../content/logo.ts";
import { errorResponses, markdownErrorResponses } from "./common.ts";

const jsonBody = { required: true, content: { "application/json": { schema: UserCRUDRequest } } };
const json = (schema: z.ZodType, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

function _page(facts: DeploymentFacts): PageFacts {
  return {
    homeserverUrl: facts.homeserverUrl,
    serverName: facts.serverName,
    deployment: facts.deployment,
    botUserId: facts.botUserId,
    aliases: facts.aliases,
    userId: null,
  };
}

function _login(facts: DeploymentFacts, userId: string, admin: boolean): LoginFacts {
  return { ..._page(facts), userId, admin };
}

function _clientData(facts: DeploymentFacts, userId: string, admin: boolean) {
  const a = facts.aliases;
  return {
    matrix_id: userId,
    homeserver_url: facts.homeserverUrl,
    server_name: facts.serverName,
    deployment: facts.deployment,
    space: a.space,
    rooms: [
      { key: "general", alias: a.general },
      { key: "helpdesk", alias: a.helpdesk },
      { key: "offtopic", alias: a.offtopic },
      ...(admin ? [{ key: "admin", alias: a.admin }] : []),
    ],
    ...(admin ? { admin: { bot_id: facts.botUserId, power_level: 100 } } : {}),
  };
}

export function registerClientRoutes(app: App, deps: AppDeps): void {
  const facts = deploymentFacts(deps.config);
  _instructionsRoute(app, facts);
  _clientDataRoutes(app, facts);
  _infoPageRoute(app, facts);
  _logoRoutes(app);
  _clientFilesRoute(app, facts);
  _adminFragmentRoute(app, facts);
}

/** How to log in, for one person. */
function _instructionsRoute(app: App, facts: DeploymentFacts): void {
  app.openapi(
    createRoute({
      method: "post",
      path: "/api/v1/instructions/{lang}",
      tags: ["clients"],
      summary: "How to log in to Matrix, for one person",
      ...caller("certificate"),
      request: { params: LanguageParam, body: jsonBody },
      responses: {
        200: json(InstructionsResponse, "Instructions"),
        ...errorResponses(400, 403, 413, 415, 422),
      },
    }),
    function instructions(c) {
      const lang: Language = pickLanguage(c.req.valid("param").lang);
      const body = c.req.valid("json");
      const userId = userIdOf(body.callsign, facts);
      const i = loginInstructions(lang, _login(facts, userId, false));
      return c.json({
        callsign: body.callsign,
        language: lang,
        instructions: { ...i, matrix_id: userId, homeserver_url: facts.homeserverUrl },
      }, 200);
    },
  );
}

/** The UI's data, for people and for admins. */
function _clientDataRoutes(app: App, facts: DeploymentFacts): void {
  for (const admin of [false, true]) {
    app.openapi(
      createRoute({
        method: "post",
        path: admin ? "/api/v2/admin/clients/data" : "/api/v2/clients/data",
        tags: ["clients"],
        summary: admin ? "Data for the admin UI" : "Data for the product page of the UI",
        ...caller("certificate"),
        request: { body: jsonBody },
        responses: {
          200: json(ClientDataResponse, "Client data"),
          ...errorResponses(400, 403, 413, 415, 422),
        },
      }),
      function clientData(c) {
        const userId = userIdOf(c.req.valid("json").callsign, facts);
        return c.json({ data: _clientData(facts, userId, admin) }, 200);
      },
    );
  }
}

/** The info page RM's UI shows, through RM's product proxy. */
function _infoPageRoute(app: App, facts: DeploymentFacts): void {
  app.openapi(
    createRoute({
      method: "post",
      path: INFO_PAGE_PATH.replace(":lang", "{lang}"),
      tags: ["clients"],
      summary: "Info page as Markdown (reached through RM's product proxy)",
      ...caller("rm", "Its proxy adds the person's callsign to the body."),
      request: { params: LanguageParam, body: jsonBody },
      responses: {
        200: { description: "Markdown", content: { "text/plain": { schema: z.string() } } },
        ...markdownErrorResponses(400, 403, 404, 405, 413, 415, 422, 500),
      },
    }),
    function infoPage(c) {
      const lang = pickLanguage(c.req.valid("param").lang);
      const body = c.req.valid("json");
      const userId = userIdOf(body.callsign, facts);
      // No title: RM's UI puts its own above the page.
      const page = infoMarkdown(lang, body.callsign, _login(facts, userId, false), {
        title: false,
      });
      return c.text(page, 200);
    },
  );
}

/** The product card's logo, to GET and to RM's proxy POST. */
function _logoRoutes(app: App): void {
  for (const method of ["get", "post"] as const) {
    app.openapi(
      createRoute({
        method,
        path: LOGO_PATH,
        tags: ["clients"],
        summary: method === "get"
          ? "The product card's logo (SVG)"
          : "The logo, as RM's product proxy asks for it (its GET becomes a POST)",
        ...caller("public", "The descriptions' `icon` points here through RM's product proxy."),
        responses: {
          200: { description: "SVG", content: { "image/svg+xml": { schema: z.string() } } },
          ...errorResponses(...(method === "post" ? [400, 413, 415] : [])),
        },
      }),
      function logo(c) {
        return c.body(LOGO_SVG, 200, {
          "content-type": "image/svg+xml",
          "cache-control": "public, max-age=86400",
        });
      },
    );
  }
}

/** Deprecated: the old UI's client files. */
function _clientFilesRoute(app: App, facts: DeploymentFacts): void {
  app.openapi(
    createRoute({
      method: "post",
      path: "/api/v1/clients/fragment",
      tags: ["deprecated"],
      deprecated: true,
      summary: "Client files for the old UI: the person's Matrix login details",
      ...caller("certificate"),
      request: { body: jsonBody },
      responses: {
        200: json(z.array(ClientFile), "Files"),
        ...errorResponses(400, 403, 413, 415, 422),
      },
    }),
    function clientFiles(c) {
      const body = c.req.valid("json");
      const userId = userIdOf(body.callsign, facts);
      const text = infoMarkdown("en", body.callsign, _login(facts, userId, false));
      const bytes = new TextEncoder().encode(text);
      const data = "data:text/markdown;base64," + btoa(String.fromCharCode(...bytes));
      return c.json([{ title: "Matrix login details", filename: "matrix-login.md", data }], 200);
    },
  );
}

/** Deprecated: the old UI's admin instructions. */
function _adminFragmentRoute(app: App, facts: DeploymentFacts): void {
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/v1/admins/fragment",
      tags: ["deprecated"],
      deprecated: true,
      summary: "Admin instructions for the old UI, as HTML",
      ...caller("certificate"),
      responses: {
        200: json(UserInstructionFragment, "HTML fragment"),
        ...errorResponses(403),
      },
    }),
    function adminFragment(c) {
      const html = adminFragmentHtml("en", _page(facts));
      return c.json({ html, inject_css: null }, 200);
    },
  );
}
