import assert from "node:assert/strict";
import { crud, mtls, PERSON, plain, testApp } from "../support/app.ts";

const TRUSTING = {
  MTLS_TRUST_PROXY_HEADER: "true",
  MTLS_TRUSTED_PROXIES: "172.20.0.0/16, ::1",
};

async function callAsHeader(
  env: Record<string, string>,
  peer: string,
  dn: string,
  header = "X-ClientCert-DN",
) {
  const { app, submitted, log } = await testApp({ env });
  const res = await app.request("/api/v1/users/created", {
    method: "POST",
    headers: { "content-type": "application/json", [header]: dn },
    body: JSON.stringify(crud()),
  }, plain(peer));
  return { res, submitted, log };
}

Deno.test("the proxy header is honoured from a trusted proxy when enabled", async () => {
  const { res, submitted } = await callAsHeader(TRUSTING, "172.20.3.4", "CN=rasenmaeher,O=N/A");
  assert.equal(res.status, 503); // authorised; the lifecycle is the next stop
  assert.equal(submitted.length, 1);
});

Deno.test("the proxy header is ignored and logged from an untrusted peer", async () => {
  const { res, submitted, log } = await callAsHeader(TRUSTING, "172.21.0.9", "CN=rasenmaeher");
  assert.equal(res.status, 403);
  assert.equal(submitted.length, 0);
  assert.match(
    log.lines.join("\n"),
    /ignored client-certificate header from an untrusted peer.*172\.21\.0\.9/,
  );
});

Deno.test("the proxy header is ignored when header trust is off, even from a listed proxy", async () => {
  const { res, submitted } = await callAsHeader(
    { MTLS_TRUSTED_PROXIES: "172.20.0.0/16" },
    "172.20.3.4",
    "CN=rasenmaeher",
  );
  assert.equal(res.status, 403);
  assert.equal(submitted.length, 0);
});

Deno.test("MTLS_HEADER_NAME renames the trusted header", async () => {
  const env = { ...TRUSTING, MTLS_HEADER_NAME: "X-SSL-Client-DN" };
  assert.equal(
    (await callAsHeader(env, "::1", "CN=rasenmaeher", "X-SSL-Client-DN")).res.status,
    503,
  );
  assert.equal((await callAsHeader(env, "::1", "CN=rasenmaeher")).res.status, 403);
});

Deno.test("an escaped comma cannot smuggle a CN into the proxy header", async () => {
  const { res } = await callAsHeader(
    TRUSTING,
    "172.20.3.4",
    String.raw`CN=evil\,CN=rasenmaeher,O=x`,
  );
  assert.equal(res.status, 403);
});

Deno.test("an unparsable proxy header authenticates nobody", async () => {
  const { res, log } = await callAsHeader(TRUSTING, "172.20.3.4", "CN=rasen<maeher");
  assert.equal(res.status, 403);
  assert.match(log.lines.join("\n"), /unparsable client-certificate header/);
});

Deno.test("on the mTLS listener the proxy header never overrides the certificate", async () => {
  const { app, submitted } = await testApp({ env: TRUSTING });
  const res = await app.request("/api/v1/users/created", {
    method: "POST",
    headers: { "content-type": "application/json", "X-ClientCert-DN": "CN=rasenmaeher" },
    body: JSON.stringify(crud()),
  }, mtls(PERSON));
  assert.equal(res.status, 403);
  assert.equal(submitted.length, 0);
});

Deno.test("every request is logged once with method, path, status and client CN", async () => {
  const { app, log } = await testApp();
  await app.request("/api/v1/healthcheck", {}, mtls(PERSON));
  const lines = log.lines.map((l) => JSON.parse(l)).filter((l) => l.message === "request");
  assert.equal(lines.length, 1);
  assert.equal(lines[0]["http.request.method"], "GET");
  assert.equal(lines[0]["url.path"], "/api/v1/healthcheck");
  assert.equal(lines[0]["http.response.status_code"], 200);
  assert.equal(lines[0]["client.cn"], "ROTTA01a");
  assert.equal(typeof lines[0]["event.duration_ms"], "number");
});
