/** @module SYNAPSE_PUBLIC_URL as Synapse writes public_baseurl: no default port. */
import assert from "node:assert/strict";
import { testConfig } from "../support/config.ts";

Deno.test("parseConfig(): a default port in SYNAPSE_PUBLIC_URL is dropped, as Synapse's public_baseurl has none", async () => {
  for (
    const [given, want] of [
      ["https://synapse.example.org:443/", "https://synapse.example.org/"],
      ["https://synapse.example.org:443", "https://synapse.example.org/"],
      ["http://synapse.example.org:80/", "http://synapse.example.org/"],
      ["https://Synapse.Example.org:8443/", "https://synapse.example.org:8443/"],
      ["http://synapse.example.org:443/", "http://synapse.example.org:443/"],
    ]
  ) {
    const config = await testConfig({ SYNAPSE_PUBLIC_URL: given! });
    assert.equal(config.synapse.publicUrl, want, given);
    assert.equal(config.keycloak.redirectUri, `${want}_synapse/client/oidc/callback`);
  }
});
