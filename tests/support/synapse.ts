/**
 * @module The real homeserver that `deno task test` started (tools/synapse/with_homeserver.ts),
 * and helpers to use it. Without one: tests are ignored loudly outside CI and fail in CI.
 */
import { createSynapseHttp, type SynapseHttp } from "../../src/synapse/http.ts";
import { randomPassword, registerWithSharedSecret } from "../../src/synapse/registration.ts";

export interface TestHomeserver {
  readonly url: string;
  readonly serverName: string;
  readonly secret: string;
  readonly python: string;
  readonly http: SynapseHttp;
}

function _homeserver(): TestHomeserver | null {
  const url = Deno.env.get("TEST_SYNAPSE_URL");
  const serverName = Deno.env.get("TEST_SYNAPSE_SERVER_NAME");
  const secret = Deno.env.get("TEST_SYNAPSE_SECRET");
  const python = Deno.env.get("TEST_SYNAPSE_PYTHON") ?? "";
  if (!url || !serverName || !secret) return null;
  return { url, serverName, secret, python, http: createSynapseHttp({ baseUrl: url }) };
}

export const homeserver: TestHomeserver | null = _homeserver();
const inCi = Deno.env.get("CI") === "true";

/** A test that needs the real Synapse. */
export function synapseTest(name: string, fn: (hs: TestHomeserver) => Promise<void>): void {
  if (homeserver === null && !inCi) {
    Deno.test({
      name: `${name} (NEEDS SYNAPSE: run through deno task test)`,
      ignore: true,
      fn: () => {},
    });
    return;
  }
  Deno.test(name, async () => {
    if (homeserver === null) {
      throw new Error(
        `CI=true but no homeserver: ${
          Deno.env.get("TEST_SYNAPSE_UNAVAILABLE") ?? "TEST_SYNAPSE_URL unset"
        }`,
      );
    }
    await fn(homeserver);
  });
}

/** A short random name, so tests on one homeserver never collide. */
export function uniqueName(prefix: string): string {
  return `${prefix}${crypto.randomUUID().replaceAll("-", "").slice(0, 10)}`;
}

/** Registers a fresh server admin for inspecting Synapse in tests; returns its token. */
export async function testAdmin(hs: TestHomeserver): Promise<string> {
  const r = await registerWithSharedSecret(hs.http, hs.secret, {
    username: uniqueName("inspector"),
    password: randomPassword(),
    admin: true,
  });
  if (r.kind !== "registered") throw new Error("cannot register a test admin");
  return r.accessToken;
}

/**
 * The service's variables for the run's Synapse: its URL (or `url`, e.g. a fault proxy in front),
 * the registration secret, the server name, the bot's name and the manifest.
 */
export function serviceEnv(
  hs: TestHomeserver,
  o: { readonly bot: string; readonly manifest: string; readonly url?: string },
): Record<string, string> {
  return {
    SYNAPSE_URL: o.url ?? hs.url,
    SYNAPSE_REGISTRATION_SECRET: hs.secret,
    SERVER_DOMAIN: hs.serverName,
    SYNAPSE_BOT_USERNAME: o.bot,
    KRAFTWERK_MANIFEST: o.manifest,
  };
}
