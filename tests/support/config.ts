/** @module Builds real `Config` values for tests through the real parser. */
import { type Config, parseConfig } from "../../src/config/config.ts";

/** A manifest like kraftwerk writes, for deployment `golden-monkey`. */
export const TEST_MANIFEST = {
  deployment: "golden-monkey",
  rasenmaeher: {
    init: { base_uri: "https://golden-monkey.dev.example.fi/", csr_jwt: "not-a-real-jwt" },
    mtls: { base_uri: "https://mtls.golden-monkey.dev.example.fi/" },
    certcn: "rasenmaeher",
  },
  product: {
    dns: "matrix.golden-monkey.dev.example.fi",
    api: "https://matrix.golden-monkey.dev.example.fi:4626/",
    uri: "https://matrix.golden-monkey.dev.example.fi:4626/",
  },
};

/** Parses `env` (plus a registration secret) with the test manifest; throws on problems. */
export async function testConfig(env: Record<string, string> = {}): Promise<Config> {
  const result = await parseConfig(
    { SYNAPSE_REGISTRATION_SECRET: "test-secret", KRAFTWERK_MANIFEST: "/m.json", ...env },
    (path) => Promise.resolve(path === "/m.json" ? JSON.stringify(TEST_MANIFEST) : null),
  );
  if (!result.ok) throw new Error(`test config invalid: ${result.problems.join("; ")}`);
  return result.config;
}
