import assert from "node:assert/strict";
import { hmacSha1Hex, registrationMessage } from "../../src/synapse/registration.ts";
import { synapseTest, uniqueName } from "../support/synapse.ts";
import { registerWithSharedSecret } from "../../src/synapse/registration.ts";
import { SynapseError } from "../../src/synapse/http.ts";

Deno.test("hmacSha1Hex() matches RFC 2202 test case 2", async () => {
  const mac = await hmacSha1Hex("Jefe", new TextEncoder().encode("what do ya want for nothing?"));
  assert.equal(mac, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
});

Deno.test("registrationMessage() joins the fields with NUL bytes", () => {
  const bytes = registrationMessage("n", "u", "p", true);
  assert.deepEqual([...bytes], [..."n\0u\0p\0admin"].map((c) => c.charCodeAt(0)));
  assert.match(new TextDecoder().decode(registrationMessage("n", "u", "p", false)), /\0notadmin$/);
});

synapseTest(
  "shared-secret registration: registered, then userInUse for the same name",
  async (hs) => {
    const username = uniqueName("reg");
    const first = await registerWithSharedSecret(hs.http, hs.secret, {
      username,
      password: "pw",
      admin: false,
    });
    assert.equal(first.kind, "registered");
    assert.equal(first.kind === "registered" ? first.userId : "", `@${username}:${hs.serverName}`);
    const again = await registerWithSharedSecret(hs.http, hs.secret, {
      username,
      password: "pw",
      admin: false,
    });
    assert.deepEqual(again, { kind: "userInUse" });
  },
);

synapseTest("a wrong registration secret is a SynapseError 403, not a registration", async (hs) => {
  await assert.rejects(
    () =>
      registerWithSharedSecret(hs.http, "wrong", {
        username: uniqueName("x"),
        password: "pw",
        admin: true,
      }),
    (err: unknown) => err instanceof SynapseError && err.status === 403,
  );
});
