/**
 * @module Real CFSSL for the tests that are about the real CA's behaviour. `deno task test`
 * installs it (tools/synapse/with_homeserver.ts); without it, such tests are ignored loudly
 * outside CI and fail in CI.
 */
import { type CfsslBins, findCfssl } from "../../tools/cfssl/install.ts";
import { type CfsslPki, createCfsslPki } from "../../tools/dev/cfssl_pki.ts";

export type { CfsslPki };

const inCi = Deno.env.get("CI") === "true";
const envDir = Deno.env.get("TEST_CFSSL_BIN_DIR");
export const cfsslBins: CfsslBins | null = envDir
  ? { cfssl: `${envDir}/cfssl`, cfssljson: `${envDir}/cfssljson` }
  : await findCfssl();
const why = () => Deno.env.get("TEST_CFSSL_UNAVAILABLE") ?? "no pinned cfssl found";

if (cfsslBins === null && !inCi) {
  // deno-lint-ignore no-console
  console.error(
    `\n!!! tests/support/cfssl.ts: no CFSSL (${why()}), so the real-CA tests are IGNORED.\n` +
      "!!! Run through deno task test (it installs CFSSL); with CI=true this fails.\n",
  );
}

/** A fresh CFSSL-made PKI (the CA itself is cached); close it when done. */
export function cfsslPki(): Promise<CfsslPki> {
  if (cfsslBins === null) throw new Error(`CI=true but no CFSSL: ${why()}`);
  return createCfsslPki(cfsslBins);
}

/** A test that needs real CFSSL. */
export function cfsslTest(name: string, fn: () => Promise<void>): void {
  if (cfsslBins === null && !inCi) {
    Deno.test({ name: `${name} (NEEDS CFSSL: run through deno task test)`, ignore: true, fn() {} });
    return;
  }
  Deno.test(name, fn);
}
