/**
 * @module The real-Keycloak harness: a realm, a user who can log in, dynamic client registration
 * with an initial access token (as Synapse's OIDC client would be registered), admin deletion.
 */
import assert from "node:assert/strict";
import { keycloakTest, type TestKeycloak } from "./keycloak.ts";

const REDIRECT = "https://synapse.example.org/_synapse/client/oidc/callback";

interface Registration {
  client_id: string;
  client_secret: string;
  registration_access_token: string;
  registration_client_uri: string;
  redirect_uris?: string[];
}

const unique = (prefix: string) =>
  `${prefix}${crypto.randomUUID().replaceAll("-", "").slice(0, 10)}`;

async function register(kc: TestKeycloak, realm: string, token: string): Promise<Registration> {
  const res = await fetch(`${kc.url}/realms/${realm}/clients-registrations/openid-connect`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ client_name: "Synapse", redirect_uris: [REDIRECT] }),
  });
  const text = await res.text();
  assert.equal(res.status, 201, text);
  return JSON.parse(text) as Registration;
}

/** The browser's authorization-code login: login form, credentials, redirect with a code. */
async function logIn(kc: TestKeycloak, realm: string, clientId: string, user: string, pw: string) {
  const auth = new URL(`${kc.url}/realms/${realm}/protocol/openid-connect/auth`);
  const query = { client_id: clientId, redirect_uri: REDIRECT, response_type: "code" };
  for (const [k, v] of Object.entries({ ...query, scope: "openid", state: "s1" })) {
    auth.searchParams.set(k, v);
  }
  const page = await fetch(auth, { redirect: "manual" });
  const html = await page.text();
  assert.equal(page.status, 200, html.slice(0, 500));
  const action = /<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"/.exec(html)?.[1];
  assert.ok(action, `no login form in: ${html.slice(0, 500)}`);
  const cookie = page.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
  const res = await fetch(action.replaceAll("&amp;", "&"), {
    method: "POST",
    headers: { cookie },
    body: new URLSearchParams({ username: user, password: pw, credentialId: "" }),
    redirect: "manual",
  });
  const body = await res.text();
  // A required action (update profile, verify email…) would answer 200 with its form instead.
  assert.equal(res.status, 302, `login did not finish: ${body.slice(0, 800)}`);
  const location = new URL(res.headers.get("location") ?? "");
  assert.equal(`${location.origin}${location.pathname}`, REDIRECT);
  assert.equal(location.searchParams.get("state"), "s1");
  const code = location.searchParams.get("code");
  assert.ok(code, `no code in ${location}`);
  return code;
}

keycloakTest(
  "Keycloak harness: realm, user, DCR with an initial access token, admin delete",
  async (kc) => {
    const realm = unique("smoke");
    await kc.admin.createRealm(realm);
    const username = unique("alice");
    const password = crypto.randomUUID();
    const userId = await kc.admin.createUser(realm, { username, password });
    assert.match(userId, /^[0-9a-f-]{36}$/);

    const reg = await register(kc, realm, await kc.admin.initialAccessToken(realm));
    for (const key of ["client_id", "client_secret", "registration_access_token"] as const) {
      assert.equal(typeof reg[key], "string", `${key} in ${JSON.stringify(reg)}`);
      assert.ok(reg[key].length > 0, key);
    }
    assert.ok(reg.registration_client_uri.startsWith(`${kc.url}/realms/${realm}/`));
    assert.deepEqual(reg.redirect_uris, [REDIRECT]);
    const readBack = () =>
      fetch(reg.registration_client_uri, {
        headers: { authorization: `Bearer ${reg.registration_access_token}` },
      });
    const got = await readBack();
    const gotText = await got.text();
    assert.equal(got.status, 200, gotText);
    assert.equal((JSON.parse(gotText) as Registration).client_id, reg.client_id);

    // The new user logs in through the browser flow at once, and the client's secret redeems.
    const code = await logIn(kc, realm, reg.client_id, username, password);
    const tokens = await fetch(`${kc.url}/realms/${realm}/protocol/openid-connect/token`, {
      method: "POST",
      headers: { authorization: `Basic ${btoa(`${reg.client_id}:${reg.client_secret}`)}` },
      body: new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: REDIRECT }),
    });
    const tokensText = await tokens.text();
    assert.equal(tokens.status, 200, tokensText);
    assert.equal(typeof (JSON.parse(tokensText) as { id_token?: unknown }).id_token, "string");

    const clients = await kc.admin.listClients(realm);
    const mine = clients.find((c) => c.clientId === reg.client_id);
    assert.ok(mine, `${reg.client_id} not in ${clients.map((c) => c.clientId).join(", ")}`);
    assert.deepEqual(mine.redirectUris, [REDIRECT]);
    await kc.admin.deleteClient(realm, mine.id);
    assert.equal((await kc.admin.listClients(realm)).some((c) => c.id === mine.id), false);
    const gone = await readBack();
    await gone.body?.cancel();
    assert.equal(gone.status, 401);
  },
);
