/** @module Who manages the product pair: decided from where it lies, or as declared. */
import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/config.ts";
import { testConfig } from "../support/config.ts";
import { PRODUCTION_READ_ROOTS, servicePermissions } from "../../tools/permissions.ts";

Deno.test("parseConfig(): the product pair on the data volume is the service's own", async () => {
  assert.equal((await testConfig()).clientCertManagedBy, "self");
  const inside = await testConfig({ CLIENT_CERT_PATH: "/data/persistent/other/c.pem" });
  assert.equal(inside.clientCertManagedBy, "self");
});

Deno.test("parseConfig(): a pair outside the data volume is externally managed unless declared", async () => {
  const secret = { CLIENT_CERT_PATH: "/etc/matrixrmapi/tls.crt" };
  assert.equal((await testConfig(secret)).clientCertManagedBy, "external");
  const keyOnly = { CLIENT_KEY_PATH: "/etc/matrixrmapi/tls.key" };
  assert.equal((await testConfig(keyOnly)).clientCertManagedBy, "external");
  // `/data/persistentX` is not inside `/data/persistent`.
  const sibling = { CLIENT_CERT_PATH: "/data/persistentX/c.pem" };
  assert.equal((await testConfig(sibling)).clientCertManagedBy, "external");
  const declared = { ...secret, CLIENT_CERT_MANAGED_BY: "self" };
  assert.equal((await testConfig(declared)).clientCertManagedBy, "self");
  const onVolume = { CLIENT_CERT_MANAGED_BY: "external" };
  assert.equal((await testConfig(onVolume)).clientCertManagedBy, "external");
});

Deno.test("parseConfig(): CLIENT_CERT_MANAGED_BY names its allowed values", async () => {
  const result = await parseConfig(
    { SYNAPSE_REGISTRATION_SECRET: "s", CLIENT_CERT_MANAGED_BY: "cert-manager" },
    () => Promise.resolve(null),
  );
  assert.equal(result.ok, false);
  if (!result.ok) {
    assert.ok(
      result.problems.some((p) =>
        /^CLIENT_CERT_MANAGED_BY: must be auto, self or external/.test(p)
      ),
    );
  }
});

Deno.test("servicePermissions(): a pair outside the volume is readable with its directory, never writable", () => {
  const flags = servicePermissions({
    CLIENT_CERT_PATH: "/srv/secret/tls.crt",
    CLIENT_KEY_PATH: "/srv/secret/tls.key",
  });
  const read = flags.find((f) => f.startsWith("--allow-read="))!.split("=")[1]!.split(",");
  const write = flags.find((f) => f.startsWith("--allow-write="))!.split("=")[1]!.split(",");
  assert.ok(
    read.includes("/srv/secret"),
    "the directory, so staged names and ..data links resolve",
  );
  assert.ok(!write.some((w) => w.startsWith("/srv")));
  const image = servicePermissions({}, { extraReadRoots: PRODUCTION_READ_ROOTS });
  const imageRead = image.find((f) => f.startsWith("--allow-read="))!;
  for (const root of PRODUCTION_READ_ROOTS) assert.ok(imageRead.includes(root));
});
