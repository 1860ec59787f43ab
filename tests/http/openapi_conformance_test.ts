/**
 * The served OpenAPI document matches the server: every route is called with each kind of answer
 * it documents, and each answer must have a documented status, a documented content type and a
 * body that validates against the documented schema (ajv, JSON Schema 2020-12 as OpenAPI 3.1).
 */
import assert from "node:assert/strict";
import Ajv2020 from "ajv/dist/2020.js";
import { crud, mtls, PERSON, plain, RM, testApp } from "../support/app.ts";
import type { AppBindings } from "../../src/transport/bindings.ts";

interface Call {
  readonly method: string;
  /** The path as called; `route` is the documented template. */
  readonly path: string;
  readonly route: string;
  readonly env: AppBindings;
  readonly body?: string;
  readonly type?: string;
}

const json = (body: unknown) => JSON.stringify(body);
const user = json(crud("ROTTA01a"));

const CALLS: readonly Call[] = [
  ...["created", "revoked", "promoted", "demoted"].flatMap((a) => [
    {
      method: "POST",
      path: `/api/v1/users/${a}`,
      route: `/api/v1/users/${a}`,
      env: mtls(RM),
      body: user,
    },
    {
      method: "POST",
      path: `/api/v1/users/${a}`,
      route: `/api/v1/users/${a}`,
      env: mtls(PERSON),
      body: user,
    },
    {
      method: "POST",
      path: `/api/v1/users/${a}`,
      route: `/api/v1/users/${a}`,
      env: mtls(RM),
      body: "{",
    },
    {
      method: "POST",
      path: `/api/v1/users/${a}`,
      route: `/api/v1/users/${a}`,
      env: mtls(RM),
      body: json({ uuid: 1 }),
    },
    {
      method: "POST",
      path: `/api/v1/users/${a}`,
      route: `/api/v1/users/${a}`,
      env: mtls(RM),
      body: user,
      type: "text/plain",
    },
    {
      method: "POST",
      path: `/api/v1/users/${a}`,
      route: `/api/v1/users/${a}`,
      env: mtls(RM),
      body: "x".repeat(70_000),
    },
    {
      method: "POST",
      path: `/api/v1/users/${a}`,
      route: `/api/v1/users/${a}`,
      env: mtls(RM),
      body: json(crud("matrixrmapi-bot")),
    },
  ]),
  {
    method: "PUT",
    path: "/api/v1/users/updated",
    route: "/api/v1/users/updated",
    env: mtls(RM),
    body: user,
  },
  { method: "GET", path: "/api/v1/healthcheck", route: "/api/v1/healthcheck", env: plain() },
  { method: "GET", path: "/api/v1/status", route: "/api/v1/status", env: plain() },
  ...["fi", "sv", "en", "xx"].flatMap((lang) => [
    {
      method: "GET",
      path: `/api/v1/description/${lang}`,
      route: "/api/v1/description/{lang}",
      env: plain(),
    },
    {
      method: "GET",
      path: `/api/v2/description/${lang}`,
      route: "/api/v2/description/{lang}",
      env: plain(),
    },
    {
      method: "GET",
      path: `/api/v2/admin/description/${lang}`,
      route: "/api/v2/admin/description/{lang}",
      env: plain(),
    },
    {
      method: "POST",
      path: `/api/v1/instructions/${lang}`,
      route: "/api/v1/instructions/{lang}",
      env: mtls(PERSON),
      body: user,
    },
    {
      method: "POST",
      path: `/api/v2/clients/${lang}/info.md`,
      route: "/api/v2/clients/{lang}/info.md",
      env: mtls(RM),
      body: user,
    },
  ]),
  {
    method: "POST",
    path: "/api/v1/instructions/fi",
    route: "/api/v1/instructions/{lang}",
    env: plain(),
    body: user,
  },
  {
    method: "POST",
    path: "/api/v2/clients/data",
    route: "/api/v2/clients/data",
    env: mtls(PERSON),
    body: user,
  },
  {
    method: "POST",
    path: "/api/v2/clients/data",
    route: "/api/v2/clients/data",
    env: mtls(PERSON),
    body: json({ callsign: " x" }),
  },
  {
    method: "POST",
    path: "/api/v2/admin/clients/data",
    route: "/api/v2/admin/clients/data",
    env: mtls(PERSON),
    body: user,
  },
  {
    method: "POST",
    path: "/api/v2/clients/fi/info.md",
    route: "/api/v2/clients/{lang}/info.md",
    env: mtls(PERSON),
    body: user,
  },
  {
    method: "POST",
    path: "/api/v1/clients/fragment",
    route: "/api/v1/clients/fragment",
    env: mtls(PERSON),
    body: user,
  },
  {
    method: "GET",
    path: "/api/v1/admins/fragment",
    route: "/api/v1/admins/fragment",
    env: mtls(PERSON),
  },
  { method: "GET", path: "/metrics", route: "/metrics", env: plain() },
  {
    method: "GET",
    path: "/api/v2/clients/logo.svg",
    route: "/api/v2/clients/logo.svg",
    env: plain(),
  },
  {
    method: "POST",
    path: "/api/v2/clients/logo.svg",
    route: "/api/v2/clients/logo.svg",
    env: mtls(RM),
    body: user,
  },
  {
    method: "POST",
    path: "/api/v1/reconcile",
    route: "/api/v1/reconcile",
    env: plain("127.0.0.1"),
    body: json({ dry_run: true }),
  },
  {
    method: "POST",
    path: "/api/v1/reconcile",
    route: "/api/v1/reconcile",
    env: plain("127.0.0.1"),
    body: "{",
  },
  {
    method: "POST",
    path: "/api/v1/reconcile",
    route: "/api/v1/reconcile",
    env: plain("127.0.0.1"),
    body: "{}",
    type: "text/plain",
  },
  {
    method: "POST",
    path: "/api/v1/reconcile",
    route: "/api/v1/reconcile",
    env: plain(),
    body: json({}),
  },
  {
    method: "POST",
    path: "/api/v1/interop/add",
    route: "/api/v1/interop/add",
    env: mtls(RM),
    body: json({ certcn: "battlelog.example.fi", x509cert: "x" }),
  },
  {
    method: "POST",
    path: "/api/v1/interop/add",
    route: "/api/v1/interop/add",
    env: mtls(PERSON),
    body: json({ certcn: "battlelog.example.fi", x509cert: "x" }),
  },
  {
    method: "POST",
    path: "/api/v1/interop/add",
    route: "/api/v1/interop/add",
    env: mtls(RM),
    body: json({ certcn: "battlelog.example.fi" }),
  },
  {
    method: "POST",
    path: "//api/v1/interop/add",
    route: "//api/v1/interop/add",
    env: mtls(RM),
    body: json({ certcn: "battlelog.example.fi", x509cert: "x" }),
  },
  { method: "GET", path: "/api/v1/interop/authz", route: "/api/v1/interop/authz", env: plain() },
  {
    method: "GET",
    path: "/api/v1/interop/authz",
    route: "/api/v1/interop/authz",
    env: mtls(PERSON),
  },
  {
    method: "GET",
    path: "/api/v1/interop/grants",
    route: "/api/v1/interop/grants",
    env: plain("127.0.0.1"),
  },
  { method: "GET", path: "/api/v1/interop/grants", route: "/api/v1/interop/grants", env: plain() },
  {
    method: "DELETE",
    path: "/api/v1/interop/grants/battlelog.example.fi",
    route: "/api/v1/interop/grants/{certcn}",
    env: plain("127.0.0.1"),
  },
  { method: "GET", path: "/api/openapi.json", route: "/api/openapi.json", env: plain() },
  { method: "GET", path: "/api/docs", route: "/api/docs", env: plain() },
  { method: "GET", path: "/api/docs/swagger-ui.css", route: "/api/docs/{asset}", env: plain() },
  { method: "GET", path: "/api/docs/init.js", route: "/api/docs/{asset}", env: plain() },
  { method: "GET", path: "/api/docs/nothing.js", route: "/api/docs/{asset}", env: plain() },
];

Deno.test("every answer of every route is documented: status, content type and body schema", async () => {
  const { app } = await testApp();
  const doc = await (await app.request("/api/openapi.json", {}, plain())).json();
  const ajv = new Ajv2020.default({ strict: false, allErrors: true });
  ajv.addSchema({ $id: "doc", components: doc.components }, "doc");
  const resolve = (schema: unknown) =>
    JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"doc#/components/'));
  const seen = new Set<string>();
  for (const call of CALLS) {
    const res = await app.request(call.path, {
      method: call.method,
      ...(call.body === undefined ? {} : {
        body: call.body,
        headers: { "content-type": call.type ?? "application/json" },
      }),
    }, call.env);
    const where = `${call.method} ${call.path} → ${res.status}`;
    const operation = doc.paths[call.route]?.[call.method.toLowerCase()];
    assert.ok(operation, `${call.method} ${call.route} is documented`);
    const documented = operation.responses[String(res.status)];
    assert.ok(documented, `${where}: status not documented`);
    const type = (res.headers.get("content-type") ?? "").toLowerCase();
    const media = Object.keys(documented.content ?? {}).find((m) =>
      type === m.toLowerCase() || type.split(";")[0] === m.toLowerCase().split(";")[0]
    );
    assert.ok(
      media,
      `${where}: content type ${type} not among ${Object.keys(documented.content ?? {})}`,
    );
    const text = await res.text();
    if (media.startsWith("application/json")) {
      const validate = ajv.compile(resolve(documented.content[media].schema));
      assert.ok(validate(JSON.parse(text)), `${where}: ${ajv.errorsText(validate.errors)}`);
    }
    seen.add(`${call.method} ${call.route} ${res.status}`);
  }
  // Every documented operation was exercised at least once.
  for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
    for (const method of Object.keys(ops)) {
      assert.ok(
        [...seen].some((s) => s.startsWith(`${method.toUpperCase()} ${path} `)),
        `${method.toUpperCase()} ${path} was not called`,
      );
    }
  }
});

Deno.test("v2 descriptions validate against ProductDescriptionExtended (no impossible allOf)", async () => {
  const { app } = await testApp();
  const doc = await (await app.request("/api/openapi.json", {}, plain())).json();
  assert.equal(doc.components.schemas.ProductDescriptionExtended.allOf, undefined);
});

Deno.test("a wrong method gets 405 with Allow; an unknown path 404", async () => {
  const { app } = await testApp();
  const wrong = await app.request("/api/v1/healthcheck", { method: "DELETE" }, plain());
  assert.equal(wrong.status, 405);
  assert.equal(wrong.headers.get("allow"), "GET, HEAD");
  assert.equal((await wrong.json()).extra, "method_not_allowed");
  const get = await app.request("/api/v1/users/created", {}, mtls(RM));
  assert.equal(get.status, 405);
  assert.equal(get.headers.get("allow"), "POST");
  await get.body?.cancel();
  const unknown = await app.request("/api/v1/nothing", {}, plain());
  assert.equal(unknown.status, 404);
  await unknown.body?.cancel();
});

Deno.test("authorisation comes first: without the right certificate every bad body is a 403", async () => {
  const { app, submitted } = await testApp();
  const bodies: Array<[string, string]> = [
    ["x".repeat(70_000), "application/json"],
    ["{}", "text/plain"],
    [json({ unexpected: true }), "application/json"],
    ["{", "application/json"],
  ];
  for (const [body, type] of bodies) {
    for (
      const [path, env] of [
        ["/api/v1/users/created", plain()],
        ["/api/v1/users/created", mtls(PERSON)],
        ["/api/v2/clients/fi/info.md", mtls(PERSON)],
        ["/api/v2/clients/data", plain()],
        ["/api/v1/reconcile", plain()],
      ] as const
    ) {
      const res = await app.request(path, {
        method: "POST",
        body,
        headers: { "content-type": type },
      }, env);
      assert.equal(res.status, 403, `${path} ${type} ${body.slice(0, 20)}`);
      await res.body?.cancel();
    }
  }
  assert.equal(submitted.length, 0);
});
