import assert from "node:assert/strict";
import { plain, testApp } from "../support/app.ts";
import { OPENAPI_PATH } from "../../src/http/routes/docs.ts";

Deno.test("GET /api/v1/healthcheck answers the contract's shape from the health source", async () => {
  const { app } = await testApp();
  const res = await app.request("/api/v1/healthcheck", {}, plain());
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { healthy: true, extra: "test" });
});

for (const lang of ["fi", "sv", "en"]) {
  Deno.test(`GET /api/v1/description/${lang} answers in ${lang} with exactly the v1 fields`, async () => {
    const { app } = await testApp();
    const res = await app.request(`/api/v1/description/${lang}`, {}, plain());
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.deepEqual(Object.keys(body).sort(), [
      "description",
      "icon",
      "language",
      "shortname",
      "title",
    ]);
    assert.equal(body.language, lang);
    assert.equal(body.shortname, "matrix");
  });
}

Deno.test("descriptions differ per language", async () => {
  const { app } = await testApp();
  const titles = new Set<string>();
  for (const lang of ["fi", "sv", "en"]) {
    titles.add(
      (await (await app.request(`/api/v2/description/${lang}`, {}, plain())).json()).description,
    );
  }
  assert.equal(titles.size, 3);
});

Deno.test("an unknown language falls back to English and says so", async () => {
  const { app } = await testApp();
  for (
    const path of [
      "/api/v1/description/de",
      "/api/v2/description/de",
      "/api/v2/admin/description/xx",
    ]
  ) {
    const body = await (await app.request(path, {}, plain())).json();
    assert.equal(body.language, "en", path);
  }
});

Deno.test("a regional tag such as fi-FI picks the base language", async () => {
  const { app } = await testApp();
  const body = await (await app.request("/api/v2/description/fi-FI", {}, plain())).json();
  assert.equal(body.language, "fi");
});

Deno.test("GET /api/v2/description points its markdown component at our info.md through RM's proxy", async () => {
  const { app } = await testApp();
  const body = await (await app.request("/api/v2/description/sv", {}, plain())).json();
  assert.deepEqual(body.component, {
    type: "markdown",
    ref: "/api/v1/product/proxy/matrix/api/v2/clients/sv/info.md",
  });
  assert.equal(body.docs, "https://docs.pvarki.fi/sv/docs/guides/matrix-guide");
});

Deno.test("GET /api/v2/admin/description describes the admin rights", async () => {
  const { app } = await testApp();
  const user = await (await app.request("/api/v2/description/en", {}, plain())).json();
  const admin = await (await app.request("/api/v2/admin/description/en", {}, plain())).json();
  assert.notEqual(admin.description, user.description);
  assert.match(admin.description, /admin/i);
});

Deno.test("the OpenAPI document lists every route the app serves", async () => {
  const { app } = await testApp();
  const doc = await (await app.request(OPENAPI_PATH, {}, plain())).json();
  const listed = new Set<string>();
  for (const [path, ops] of Object.entries(doc.paths as Record<string, object>)) {
    for (const method of Object.keys(ops)) listed.add(`${method.toUpperCase()} ${path}`);
  }
  const served = new Set(
    app.routes
      .filter((r) => r.method !== "ALL")
      .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, "{$1}")}`),
  );
  assert.deepEqual([...served].filter((r) => !listed.has(r)), []);
  assert.deepEqual([...listed].filter((r) => !served.has(r)), []);
  for (
    const expected of [
      "POST /api/v1/users/created",
      "PUT /api/v1/users/updated",
      "GET /api/v1/healthcheck",
      "GET /api/v2/admin/description/{lang}",
      "POST /api/v2/clients/{lang}/info.md",
      "GET /api/v1/admins/fragment",
      "GET /api/docs",
    ]
  ) assert.ok(listed.has(expected), expected);
});

Deno.test("GET /api/docs renders from assets the service itself serves", async () => {
  const { app } = await testApp();
  const page = await app.request("/api/docs", {}, plain());
  assert.equal(page.status, 200);
  const html = await page.text();
  const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
  assert.ok(refs.length >= 3);
  for (const ref of refs) {
    assert.ok(ref.startsWith("/api/docs/"), `external asset ${ref}`);
    const asset = await app.request(ref, {}, plain());
    assert.equal(asset.status, 200, ref);
    assert.ok((await asset.text()).length > 0, ref);
  }
  assert.match(page.headers.get("content-security-policy") ?? "", /default-src 'self'/);
});
