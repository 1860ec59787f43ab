/**
 * Synapse's OIDC client against a real Keycloak: registered with an initial access token that the
 * fake RM's `kctoken` gets from Keycloak's admin API (as RM does), checked and corrected through
 * the client-registration management API, never duplicated.
 */
import assert from "node:assert/strict";
import { keycloakTest, type TestKeycloak } from "../support/keycloak.ts";
import { type FakeRm, startFakeRm } from "../support/fake_rm.ts";
import { waitFor } from "../support/wait.ts";
import { createTestPki, type Issued, type TestPki } from "../../tools/dev/pki.ts";
import { createMemoryLogger } from "../../src/log/logger.ts";
import type { KeycloakClient } from "../../tools/keycloak/admin.ts";
import { createOidcRegistration, type OidcRegistration } from "../../src/keycloak/oidc_client.ts";
import { createRegistrationApi } from "../../src/keycloak/registration_api.ts";
import { createRmProductApi } from "../../src/rm/product_api.ts";

const CALLBACK = "https://synapse.oidc.example.org/_synapse/client/oidc/callback";
const PRODUCT = "matrix.oidc.example.org";

interface Fixture extends AsyncDisposable {
  readonly realm: string;
  readonly path: string;
  readonly dir: string;
  readonly rm: FakeRm;
  readonly log: ReturnType<typeof createMemoryLogger>;
  /** Starts a registration task on the volume, as a service start does. */
  start(options?: {
    recheckMs?: number;
    retryMs?: readonly [number, number];
    synapseCallback?: () => Promise<string | null>;
  }): OidcRegistration;
  clients(): Promise<KeycloakClient[]>;
  file(): Promise<Record<string, string | string[]>>;
}

async function fixture(kc: TestKeycloak): Promise<Fixture> {
  const realm = `oidc-${crypto.randomUUID().slice(0, 8)}`;
  await kc.admin.createRealm(realm);
  const pki: TestPki = await createTestPki();
  const rm = await startFakeRm(pki);
  rm.productCns = [PRODUCT];
  rm.kcToken = () => kc.admin.initialAccessToken(realm, { count: 1, expiration: 1 });
  const product: Issued = await pki.issueLeaf({ cn: PRODUCT, kind: "client" });
  const pair = { certPem: product.certPem, keyPem: product.keyPem };
  const rmApi = createRmProductApi({
    initBaseUri: rm.initBaseUri,
    mtlsBaseUri: rm.baseUri,
    caPems: () => Promise.resolve([pki.chainPem]),
  });
  const dir = await Deno.makeTempDir({ prefix: "oidc-" });
  const path = `${dir}/oidc/registration.json`;
  const log = createMemoryLogger();
  const stops: Array<() => Promise<void>> = [];
  return {
    realm,
    path,
    dir,
    rm,
    log,
    start(options = {}) {
      const task = createOidcRegistration({
        path,
        redirectUri: CALLBACK,
        api: createRegistrationApi({
          baseUrl: `${kc.url}/`,
          realm,
          caPems: () => Promise.resolve([pki.chainPem]),
        }),
        certificate: { current: () => pair, whenReady: () => Promise.resolve(pair) },
        kcToken: (p) => rmApi.kcToken(p),
        log,
        retryMs: [100, 500],
        ...options,
      });
      const stop = new AbortController();
      const running = task.run(stop.signal);
      stops.push(async () => {
        stop.abort();
        await running;
      });
      return task;
    },
    clients: async () =>
      (await kc.admin.listClients(realm)).filter((c) => !_builtIn.has(c.clientId)),
    file: async () => JSON.parse(await Deno.readTextFile(path)),
    async [Symbol.asyncDispose]() {
      for (const stop of stops) await stop();
      await rm[Symbol.asyncDispose]();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

// The clients every new realm has.
const _builtIn = new Set([
  "account",
  "account-console",
  "admin-cli",
  "broker",
  "realm-management",
  "security-admin-console",
]);

keycloakTest("a fresh volume registers one client with Synapse's exact callback", async (kc) => {
  await using f = await fixture(kc);
  const task = f.start();
  await waitFor("registration", () => task.status().phase === "ready");
  const file = await f.file();
  assert.equal((await Deno.stat(f.path)).mode! & 0o777, 0o600);
  assert.deepEqual(file.redirect_uris, [CALLBACK]);
  const clients = await f.clients();
  assert.equal(clients.length, 1);
  assert.equal(clients[0]!.clientId, file.client_id);
  assert.deepEqual(clients[0]!.redirectUris, [CALLBACK], "exactly the callback, not *");
  assert.equal(task.status().clientId, file.client_id);
  // A one-second token may expire between RM and Keycloak on a loaded machine: each one Keycloak
  // refused is logged and replaced at once, so the tokens fetched are one plus those refusals.
  const refused = f.log.lines.filter((l) => l.includes("fetching another at once")).length;
  assert.equal(f.rm.calls.kcToken, 1 + refused, "one token per attempt, a refused one replaced");
  assert.ok(refused < 3, "registered within the three tokens of one attempt");
  assert.ok(
    f.rm.callers.length > 0 && f.rm.callers.every((c) => c === PRODUCT),
    "kctoken was called with the product certificate",
  );
  for (const secret of [file.client_secret, file.registration_access_token] as string[]) {
    assert.ok(!f.log.lines.some((l) => l.includes(secret)), "no secret in the log");
  }
});

keycloakTest("a restart checks the client and registers none", async (kc) => {
  await using f = await fixture(kc);
  const first = f.start();
  await waitFor("registration", () => first.status().phase === "ready");
  const before = await f.file();
  const tokens = f.rm.calls.kcToken;
  const again = f.start();
  await waitFor("check", () => again.status().phase === "ready");
  assert.equal((await f.clients()).length, 1, "zero new clients");
  assert.equal(f.rm.calls.kcToken, tokens, "no new initial access token either");
  assert.equal((await f.file()).client_id, before.client_id);
});

keycloakTest(
  "a client deleted by hand is registered again, and the old file kept aside",
  async (kc) => {
    await using f = await fixture(kc);
    const task = f.start({ recheckMs: 300 });
    await waitFor("registration", () => task.status().phase === "ready");
    const old = await f.file();
    const [client] = await f.clients();
    await kc.admin.deleteClient(f.realm, client!.id);
    const renewed = await waitFor("re-registration", async () => {
      const now = await f.file().catch(() => null);
      return now !== null && now.client_id !== old.client_id ? now : null;
    });
    const clients = await f.clients();
    assert.deepEqual(clients.map((c) => c.clientId), [renewed.client_id]);
    const aside = [...Deno.readDirSync(`${f.dir}/oidc`)].map((e) => e.name);
    assert.ok(aside.some((n) => n.startsWith("registration.json.unusable-")), aside.join(", "));
    assert.ok(f.log.lines.some((l) => l.includes("no longer accepts the registered client")));
  },
);

keycloakTest(
  "a client the Python image registered with '*' is adopted and locked down",
  async (kc) => {
    await using f = await fixture(kc);
    // What kc_client_init wrote: Keycloak's reply to {"client_name":"Synapse","redirect_uris":["*"]}.
    const iat = await kc.admin.initialAccessToken(f.realm, { count: 1, expiration: 1 });
    const res = await fetch(`${kc.url}/realms/${f.realm}/clients-registrations/openid-connect`, {
      method: "POST",
      headers: { authorization: `Bearer ${iat}`, "content-type": "application/json" },
      body: JSON.stringify({ client_name: "Synapse", redirect_uris: ["*"] }),
    });
    assert.equal(res.status, 201);
    const python = await res.text();
    await Deno.mkdir(`${f.dir}/oidc`, { recursive: true });
    await Deno.writeTextFile(f.path, python);
    const original = JSON.parse(python);
    const task = f.start();
    await waitFor("adoption", () => task.status().phase === "ready");
    const file = await f.file();
    assert.equal(file.client_id, original.client_id, "the same client, not a new one");
    assert.equal(file.client_secret, original.client_secret, "Synapse's secret still works");
    assert.deepEqual(file.redirect_uris, [CALLBACK]);
    assert.notEqual(file.registration_access_token, original.registration_access_token);
    const clients = await f.clients();
    assert.equal(clients.length, 1);
    assert.deepEqual(clients[0]!.redirectUris, [CALLBACK]);
    assert.equal(f.rm.calls.kcToken, 0, "no registration was needed");
    // The file is current: a restart checks with the new registration access token.
    const again = f.start();
    await waitFor("second check", () => again.status().phase === "ready");
    assert.equal((await f.clients()).length, 1);
  },
);

keycloakTest("an unreadable registration file is set aside, not thrown away", async (kc) => {
  await using f = await fixture(kc);
  await Deno.mkdir(`${f.dir}/oidc`, { recursive: true });
  await Deno.writeTextFile(f.path, "{ not json");
  const task = f.start();
  await waitFor("registration", () => task.status().phase === "ready");
  const kept = [...Deno.readDirSync(`${f.dir}/oidc`)].find((e) =>
    e.name.startsWith("registration.json.unusable-")
  );
  assert.ok(kept !== undefined);
  assert.equal(await Deno.readTextFile(`${f.dir}/oidc/${kept.name}`), "{ not json");
  assert.equal((await f.clients()).length, 1);
});

keycloakTest(
  "RM refusing kctoken is an error that is retried, and registration follows",
  async (kc) => {
    await using f = await fixture(kc);
    const enable = f.rm.kcToken;
    f.rm.kcToken = null;
    const task = f.start();
    await waitFor("a refusal", () => task.status().attempt >= 2);
    assert.equal(task.status().phase, "error");
    assert.match(task.status().lastError!, /KC is not enabled/);
    assert.equal(await Deno.stat(f.path).then(() => true, () => false), false);
    f.rm.kcToken = enable;
    await waitFor("registration", () => task.status().phase === "ready");
    assert.equal((await f.clients()).length, 1);
  },
);

keycloakTest(
  "a one-second initial access token that expired before use is replaced at once, without backoff",
  async (kc) => {
    await using f = await fixture(kc);
    // RM's kctoken asks for expiration=1: the first token is 2.5 s old when it is used.
    let handed = 0;
    f.rm.kcToken = async () => {
      handed++;
      const token = await kc.admin.initialAccessToken(f.realm, { count: 1, expiration: 1 });
      if (handed === 1) await new Promise((r) => setTimeout(r, 2500));
      return token;
    };
    // A backoff would wait a minute: done within the timeout means no backoff was taken.
    const task = f.start({ retryMs: [60_000, 60_000] });
    await waitFor("registration", () => task.status().phase === "ready" ? true : null, {
      timeoutMs: 20_000,
    });
    assert.equal(handed, 2, "one expired token, one fresh one");
    assert.ok(!f.log.lines.some((l) => l.includes("OIDC client registration:")), "no failure");
    assert.ok(f.log.lines.some((l) => l.includes("fetching another at once")));
    assert.equal((await f.clients()).length, 1);
  },
);

keycloakTest(
  "once Synapse is up, the client allows exactly the callback Synapse sends, whatever was configured",
  async (kc) => {
    await using f = await fixture(kc);
    // Configured with the old ':443' spelling; Synapse is down at first, then answers port-less.
    const synapses = "https://synapse.oidc.example.org:8443/_synapse/client/oidc/callback";
    let synapseUp = false;
    const task = f.start({
      recheckMs: 200,
      synapseCallback: () => Promise.resolve(synapseUp ? synapses : null),
    });
    await waitFor("registration", () => task.status().phase === "ready" ? true : null);
    assert.equal(task.status().synapseConfirmed, null);
    assert.deepEqual((await f.clients())[0]?.redirectUris, [CALLBACK], "the configured one first");
    synapseUp = true;
    await waitFor("Synapse's callback", async () => {
      const [client] = await f.clients();
      return client?.redirectUris?.[0] === synapses ? client : null;
    });
    assert.equal(task.status().redirectUri, synapses);
    assert.equal(task.status().synapseConfirmed, false, "it differs from SYNAPSE_PUBLIC_URL");
    assert.equal((await f.clients()).length, 1, "corrected, not registered again");
    assert.ok(
      f.log.lines.some((l) => l.includes("another login callback than SYNAPSE_PUBLIC_URL")),
    );
  },
);
