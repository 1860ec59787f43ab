/** @module callbackFromRedirect(): the callback Synapse implies by where it redirects. */
import assert from "node:assert/strict";
import { callbackFromRedirect } from "../../src/synapse/sso.ts";

Deno.test("callbackFromRedirect() reads Synapse's canonical URL and a provider's redirect_uri", () => {
  assert.equal(
    callbackFromRedirect(
      "https://synapse.example.org/_matrix/client/v3/login/sso/redirect/oidc-keycloak?redirectUrl=x",
    ),
    "https://synapse.example.org/_synapse/client/oidc/callback",
  );
  assert.equal(
    callbackFromRedirect(
      "https://synapse.example.org:8443/matrix/_matrix/client/v3/login/sso/redirect/oidc-kc",
    ),
    "https://synapse.example.org:8443/matrix/_synapse/client/oidc/callback",
  );
  const cb = "https://synapse.example.org/_synapse/client/oidc/callback";
  assert.equal(
    callbackFromRedirect(
      `https://kc.example.org/realms/R/protocol/openid-connect/auth?redirect_uri=${
        encodeURIComponent(cb)
      }`,
    ),
    cb,
  );
});

Deno.test("callbackFromRedirect() guesses nothing from an answer it does not know", () => {
  for (
    const location of [
      "not a url",
      "/_matrix/client/v3/login/sso/redirect/oidc-keycloak",
      "https://kc.example.org/auth?redirect_uri=https%3A%2F%2Fevil.example%2Fsomewhere",
      "https://elsewhere.example.org/login",
      "javascript:alert(1)//_matrix/client/v3/login/sso/redirect/x",
    ]
  ) {
    assert.equal(callbackFromRedirect(location), null, location);
  }
});
