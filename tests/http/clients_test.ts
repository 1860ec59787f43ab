import assert from "node:assert/strict";
import { crud, mtls, PERSON, plain, RM, testApp } from "../support/app.ts";

Deno.test("POST /api/v1/instructions/fi gives a person Finnish login steps with their Matrix ID", async () => {
  const { postJson } = await testApp({
    env: { SYNAPSE_PUBLIC_URL: "https://synapse.example.fi:4439" },
  });
  const res = await postJson("/api/v1/instructions/fi", crud("ROTTA01a"), mtls(PERSON));
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.callsign, "ROTTA01a");
  assert.equal(body.language, "fi");
  assert.equal(body.instructions.matrix_id, "@rotta01a:golden-monkey.dev.example.fi");
  assert.equal(body.instructions.homeserver_url, "https://synapse.example.fi:4439/");
  const text = JSON.stringify(body.instructions.steps);
  assert.match(text, /Element/);
  assert.match(text, /@rotta01a:golden-monkey\.dev\.example\.fi/);
  assert.match(text, /Kirjaudu/);
});

Deno.test("instructions need a client certificate", async () => {
  const { postJson } = await testApp();
  assert.equal((await postJson("/api/v1/instructions/en", crud(), plain())).status, 403);
});

Deno.test("POST /api/v2/clients/data gives the UI the homeserver, Matrix ID and room aliases", async () => {
  const { postJson } = await testApp();
  const res = await postJson("/api/v2/clients/data", crud("ROTTA01a"), mtls(PERSON));
  assert.equal(res.status, 200);
  const { data } = await res.json();
  assert.equal(data.matrix_id, "@rotta01a:golden-monkey.dev.example.fi");
  assert.equal(data.space, "#golden-monkey-space:golden-monkey.dev.example.fi");
  assert.deepEqual(data.rooms.map((r: { key: string }) => r.key), [
    "general",
    "helpdesk",
    "offtopic",
  ]);
  assert.equal(data.homeserver_url, "https://synapse.golden-monkey.dev.example.fi/");
});

Deno.test("POST /api/v2/admin/clients/data adds the admin room", async () => {
  const { postJson } = await testApp();
  const { data } = await (await postJson("/api/v2/admin/clients/data", crud(), mtls(PERSON)))
    .json();
  assert.ok(
    data.rooms.some((r: { alias: string }) =>
      r.alias === "#golden-monkey-admin:golden-monkey.dev.example.fi"
    ),
  );
  assert.equal(data.admin.bot_id, "@matrixrmapi-bot:golden-monkey.dev.example.fi");
});

Deno.test("POST /api/v2/clients/sv/info.md answers Swedish Markdown for the person RM names", async () => {
  const { postJson } = await testApp();
  const res = await postJson("/api/v2/clients/sv/info.md", crud("ROTTA01a"), mtls(RM));
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/plain/);
  const text = await res.text();
  assert.match(text, /^Hej ROTTA01a!/, "no title of its own: RM's UI shows one above the page");
  assert.doesNotMatch(text, /^# /m);
  assert.match(text, /^## /m, "the sections keep their headings");
  assert.match(text, /@rotta01a:golden-monkey\.dev\.example\.fi/);
});

Deno.test("info.md escapes a callsign that looks like Markdown or HTML", async () => {
  const { postJson } = await testApp();
  const text = await (await postJson("/api/v2/clients/en/info.md", crud("<img>[x](y)"), mtls(RM)))
    .text();
  assert.doesNotMatch(text, /<img>/);
  assert.match(text, /\\<img\\>\\\[x\\\]\\\(y\\\)/);
});

Deno.test("info.md is only for RM", async () => {
  const { postJson } = await testApp();
  assert.equal((await postJson("/api/v2/clients/en/info.md", crud(), mtls(PERSON))).status, 403);
});

Deno.test("info.md answers every failure as a localised page, never JSON (RM's UI renders any body)", async () => {
  const { postJson, app } = await testApp();
  const refused = await postJson("/api/v2/clients/fi/info.md", crud(), mtls(PERSON));
  assert.equal(refused.status, 403);
  assert.match(refused.headers.get("content-type") ?? "", /^text\/markdown/);
  const page = await refused.text();
  assert.match(page, /^Tämä sivu näytetään vain deploy appin kautta\./);
  assert.match(page, /Tiedot ylläpitäjälle: `.*Rasenmaeher/);
  assert.doesNotMatch(page, /"success"|^\{/);
  const invalid = await postJson("/api/v2/clients/sv/info.md", { callsign: 7 }, mtls(RM));
  assert.equal(invalid.status, 422);
  assert.match(await invalid.text(), /^Deploy appen bad om sidan på ett sätt/);
  const wrongMethod = await app.request("/api/v2/clients/en/info.md", { method: "GET" }, mtls(RM));
  assert.equal(wrongMethod.status, 405);
  assert.match(await wrongMethod.text(), /^The deploy app asked for this page in a way/);
  // Other routes keep the contract's JSON errors.
  const other = await postJson("/api/v2/clients/data", crud(), mtls(RM), "PUT");
  assert.match(other.headers.get("content-type") ?? "", /json/);
});

Deno.test("POST /api/v1/clients/fragment returns a real login file as a data URI", async () => {
  const { postJson } = await testApp();
  const files = await (await postJson("/api/v1/clients/fragment", crud("ÄIJÄ"), mtls(PERSON)))
    .json();
  assert.equal(files.length, 1);
  assert.deepEqual(Object.keys(files[0]).sort(), ["data", "filename", "title"]);
  const [, b64] = files[0].data.split("base64,");
  const text = new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
  assert.match(text, /@=c3=a4ij=c3=a4:golden-monkey\.dev\.example\.fi/);
  assert.match(text, /Hello ÄIJÄ!/);
});

Deno.test("GET /api/v1/admins/fragment returns an HTML fragment naming the admin room", async () => {
  const { app } = await testApp();
  const res = await app.request("/api/v1/admins/fragment", {}, mtls(PERSON));
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.match(body.html, /#golden-monkey-admin:golden-monkey\.dev\.example\.fi/);
  assert.equal(body.inject_css, null);
  assert.equal((await app.request("/api/v1/admins/fragment", {}, plain())).status, 403);
});

Deno.test("info.md is the whole guide for this deployment: details, rooms as matrix.to links, recovery", async () => {
  const { postJson } = await testApp();
  const res = await postJson("/api/v2/clients/en/info.md", crud("ROTTA01a"), mtls(RM));
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/plain/);
  const text = await res.text();
  assert.match(text, /`https:\/\/synapse\.golden-monkey\.dev\.example\.fi\/`/);
  assert.match(text, /`@rotta01a:golden-monkey\.dev\.example\.fi`/);
  for (const key of ["space", "general", "helpdesk", "offtopic"]) {
    assert.ok(
      text.includes(
        `(https://matrix.to/#/%23golden-monkey-${key}:golden-monkey.dev.example.fi)`,
      ),
      key,
    );
  }
  assert.doesNotMatch(
    text,
    /golden-monkey-admin/,
    "the person's page does not link the admin room",
  );
  for (
    const heading of ["Install Element", "Encryption and your recovery key", "Other Matrix servers"]
  ) {
    assert.match(text, new RegExp(`^## ${heading}$`, "m"));
  }
  assert.doesNotMatch(text, /[{}<]/);
});

Deno.test("the descriptions' icon is our logo through RM's product proxy, answered to GET and to the proxy's POST", async () => {
  const { app, postJson } = await testApp();
  const v2 = await (await app.request("/api/v2/description/en", {}, plain())).json();
  assert.equal(v2.icon, "/api/v1/product/proxy/matrix/api/v2/clients/logo.svg");
  const v1 = await (await app.request("/api/v1/description/fi", {}, plain())).json();
  assert.equal(v1.icon, v2.icon);
  const direct = await app.request("/api/v2/clients/logo.svg", {}, plain());
  assert.equal(direct.status, 200);
  assert.equal(direct.headers.get("content-type"), "image/svg+xml");
  const svg = await direct.text();
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  const proxied = await postJson("/api/v2/clients/logo.svg", crud(), mtls(RM));
  assert.equal(await proxied.text(), svg);
});
