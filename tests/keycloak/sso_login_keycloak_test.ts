/**
 * A person's first login to Matrix, end to end: the real Synapse of this run was started with
 * single sign-on through the real Keycloak, from the registration.json this service's registration
 * task wrote (tools/synapse/with_homeserver.ts --with-keycloak). The login is driven over HTTP as a
 * browser does it: Synapse's SSO redirect → Keycloak's login form → callback → login token →
 * `m.login.token`.
 */
import assert from "node:assert/strict";
import http from "node:http";
import { Buffer } from "node:buffer";
import { homeserver, type TestHomeserver } from "../support/synapse.ts";
import { keycloak, type TestKeycloak } from "../support/keycloak.ts";
import { lifecycleFixture } from "../support/lifecycle.ts";
import { waitFor } from "../support/wait.ts";
import { callsignToUserId } from "../../src/matrix/mxid.ts";
import { synapseSsoCallback } from "../../src/synapse/sso.ts";
import { joinedRooms } from "../../src/synapse/membership.ts";
import { getState } from "../../src/synapse/rooms.ts";
import type { LifecycleAction } from "../../src/lifecycle/lifecycle.ts";

interface Sso {
  readonly hs: TestHomeserver;
  readonly kc: TestKeycloak;
  readonly realm: string;
  readonly doneUrl: string;
  readonly registration: string;
  /** Synapse's public_baseurl: `https://synapse.<server name>/`, port-less as at 443. */
  readonly publicUrl: string;
}

function _sso(): Sso | null {
  const realm = Deno.env.get("TEST_SSO_REALM");
  const doneUrl = Deno.env.get("TEST_SSO_DONE_URL");
  const registration = Deno.env.get("TEST_SSO_REGISTRATION");
  const publicUrl = Deno.env.get("TEST_SYNAPSE_PUBLIC_URL");
  if (homeserver === null || keycloak === null || !realm || !doneUrl || !registration) return null;
  if (Deno.env.get("TEST_SYNAPSE_SSO") !== "keycloak" || !publicUrl) return null;
  return { hs: homeserver, kc: keycloak, realm, doneUrl, registration, publicUrl };
}

function ssoTest(name: string, fn: (sso: Sso) => Promise<void>): void {
  const sso = _sso();
  if (sso === null && Deno.env.get("CI") !== "true") {
    Deno.test({
      name: `${name} (NEEDS SYNAPSE AND KEYCLOAK: deno task test)`,
      ignore: true,
      fn() {},
    });
    return;
  }
  Deno.test(name, async () => {
    if (sso === null) {
      throw new Error(
        `CI=true but no SSO stack: ${
          Deno.env.get("TEST_KEYCLOAK_UNAVAILABLE") ?? Deno.env.get("TEST_SYNAPSE_UNAVAILABLE") ??
            "run through with_homeserver.ts --with-keycloak"
        }`,
      );
    }
    await fn(sso);
  });
}

/**
 * A browser's cookie jar, reduced to what this flow needs (both servers are on 127.0.0.1), and a
 * resolver: Synapse's public URL (`https://synapse.<domain>/`, as the deployment's nginx serves
 * it) is reached at the loopback port Synapse listens on.
 */
class Browser {
  readonly #cookies = new Map<string, string>();
  constructor(readonly publicUrl: string, readonly realUrl: string) {}

  async go(publicOrReal: string, init: RequestInit = {}): Promise<Response> {
    const viaPublic = publicOrReal.startsWith(this.publicUrl);
    const url = viaPublic
      ? `${this.realUrl}/${publicOrReal.slice(this.publicUrl.length)}`
      : publicOrReal;
    const headers = new Headers(init.headers);
    // What the deployment's nginx passes on: the public host name.
    if (viaPublic) {
      headers.set("x-forwarded-for", "127.0.0.1");
      headers.set("x-forwarded-proto", new URL(this.publicUrl).protocol.replace(":", ""));
    }
    if (this.#cookies.size > 0) {
      headers.set("cookie", [...this.#cookies].map(([k, v]) => `${k}=${v}`).join("; "));
    }
    // fetch() sends its own Host; node:http sends the public one, as a browser through nginx does.
    const res = viaPublic
      ? await _withHost(url, new URL(this.publicUrl).host, init.method ?? "GET", headers, init.body)
      : await fetch(url, { ...init, headers, redirect: "manual" });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const eq = pair!.indexOf("=");
      if (eq > 0) this.#cookies.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim());
    }
    return res;
  }
}

/** One HTTP/1.1 request to `url` with `host` as its Host header, answered as a Response. */
function _withHost(
  url: string,
  host: string,
  method: string,
  headers: Headers,
  body: RequestInit["body"],
): Promise<Response> {
  const payload = body === undefined || body === null ? undefined : String(body);
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method,
      headers: { ...Object.fromEntries(headers), host },
    }, (res) => {
      const chunks: Uint8Array[] = [];
      res.on("data", (c: Uint8Array) => chunks.push(c));
      res.on("end", () => {
        const out = new Headers();
        for (const [k, v] of Object.entries(res.headers)) {
          for (const one of Array.isArray(v) ? v : [v ?? ""]) out.append(k, one);
        }
        const status = res.statusCode ?? 0;
        resolve(
          new Response(status === 204 || status === 304 ? null : Buffer.concat(chunks), {
            status,
            headers: out,
          }),
        );
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(payload);
  });
}

/** Logs `username` in through Synapse's SSO; returns the Matrix ID Synapse gives the person. */
async function ssoLogin(sso: Sso, username: string, password: string): Promise<string> {
  const browser = new Browser(sso.publicUrl, sso.hs.url);
  // A client starts at Synapse's public URL, as Element does with the homeserver URL people enter.
  const start = await browser.go(
    `${sso.publicUrl}_matrix/client/v3/login/sso/redirect/oidc-keycloak?redirectUrl=${
      encodeURIComponent(sso.doneUrl)
    }`,
  );
  await start.body?.cancel();
  assert.equal(start.status, 302, "Synapse redirects to the identity provider");
  const authorize = start.headers.get("location")!;
  assert.ok(authorize.startsWith(`${sso.kc.url}/realms/${sso.realm}/`), authorize);
  assert.equal(
    new URL(authorize).searchParams.get("redirect_uri"),
    `${sso.publicUrl}_synapse/client/oidc/callback`,
    "Synapse sends its port-less callback",
  );
  const page = await browser.go(authorize);
  const html = await page.text();
  assert.equal(page.status, 200, "Keycloak shows its login form");
  const action = /<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"/.exec(html)?.[1];
  assert.ok(action !== undefined, "the login form has an action");
  const posted = await browser.go(action.replaceAll("&amp;", "&"), {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ username, password, credentialId: "" }),
  });
  await posted.body?.cancel();
  assert.equal(posted.status, 302, "Keycloak accepts the password");
  const callback = posted.headers.get("location")!;
  // Keycloak sends the browser to exactly the redirect_uri Synapse asked for: port-less.
  assert.ok(callback.startsWith(`${sso.publicUrl}_synapse/client/oidc/callback?`), callback);
  const done = await browser.go(callback);
  const body = await done.text();
  assert.equal(done.status, 302, `Synapse completes the login: ${body.slice(0, 300)}`);
  const landing = new URL(done.headers.get("location")!);
  assert.equal(`${landing.origin}${landing.pathname}`, sso.doneUrl);
  const loginToken = landing.searchParams.get("loginToken");
  assert.ok(loginToken, "Synapse hands the client a login token");
  const login = await fetch(`${sso.hs.url}/_matrix/client/v3/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ type: "m.login.token", token: loginToken }),
  });
  const session = await login.json();
  assert.equal(login.status, 200, JSON.stringify(session));
  return session.user_id;
}

ssoTest(
  "a person logs in to Matrix through Keycloak; created and promoted sent before land after",
  async (sso) => {
    const registration = JSON.parse(await Deno.readTextFile(sso.registration));
    const clients = await sso.kc.admin.listClients(sso.realm);
    const synapse = clients.find((c) => c.clientId === registration.client_id);
    // Registered first under `https://synapse.<domain>:443/` (another URI to Keycloak), then
    // corrected by the service's task to exactly the callback Synapse sends.
    assert.deepEqual(synapse?.redirectUris, [`${sso.publicUrl}_synapse/client/oidc/callback`]);
    assert.doesNotMatch(sso.publicUrl, /:443/);

    await using f = await lifecycleFixture(sso.hs);
    // An awkward callsign as RM has it; RM creates the Keycloak username lower-cased.
    const callsign = `Kettu_Ä${crypto.randomUUID().slice(0, 4)}.7`;
    const mapped = callsignToUserId(callsign, sso.hs.serverName);
    assert.ok(mapped.ok);
    const send = (action: LifecycleAction) =>
      f.lifecycle.submit({
        action,
        userId: mapped.userId,
        callsign,
        uuid: crypto.randomUUID(),
        receivedAt: new Date(),
      });
    assert.notEqual((await send("created")).kind, "conflict");
    assert.notEqual((await send("promoted")).kind, "conflict");
    assert.deepEqual(await joinedRooms(sso.hs.http.as(f.ready.token), mapped.userId), []);

    const password = crypto.randomUUID();
    await sso.kc.admin.createUser(sso.realm, { username: callsign.toLowerCase(), password });
    const userId = await ssoLogin(sso, callsign.toLowerCase(), password);
    assert.equal(userId, mapped.userId, "Synapse's Matrix ID is the one we act on");

    await f.settle();
    const joined = await waitFor("joins", async () => {
      const rooms = await joinedRooms(sso.hs.http.as(f.ready.token), userId);
      return rooms.length === 5 ? rooms : null;
    });
    assert.deepEqual(
      [...joined].sort(),
      Object.values(f.ready.rooms).sort(),
      "the Space, the public rooms and the admin room",
    );
    for (const room of ["space", "general", "helpdesk", "offtopic"] as const) {
      const pl = await getState(
        sso.hs.http.as(f.ready.token),
        f.ready.rooms[room],
        "m.room.power_levels",
      );
      assert.equal((pl?.users as Record<string, number>)[userId], 100, room);
    }
  },
);

ssoTest("Synapse tells its own login callback when asked on its internal URL", async (sso) => {
  assert.equal(
    await synapseSsoCallback({ baseUrl: sso.hs.url }),
    `${sso.publicUrl}_synapse/client/oidc/callback`,
  );
  assert.equal(await synapseSsoCallback({ baseUrl: "http://127.0.0.1:9" }), null, "not up: null");
});
