/**
 * @module The real Keycloak that tools/synapse/with_homeserver.ts --with-keycloak started, and its admin API.
 * Without one: tests are ignored loudly outside CI and fail in CI.
 */
import { type KeycloakAdmin, keycloakAdmin } from "../../tools/keycloak/admin.ts";

export interface TestKeycloak {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** The bootstrap admin of realm master. */
  readonly adminUser: string;
  readonly adminPassword: string;
  readonly admin: KeycloakAdmin;
}

function _keycloak(): TestKeycloak | null {
  const url = Deno.env.get("TEST_KEYCLOAK_URL");
  const adminUser = Deno.env.get("TEST_KEYCLOAK_ADMIN_USER");
  const adminPassword = Deno.env.get("TEST_KEYCLOAK_ADMIN_PASSWORD");
  if (!url || !adminUser || !adminPassword) return null;
  return { url, adminUser, adminPassword, admin: keycloakAdmin({ url, adminUser, adminPassword }) };
}

export const keycloak: TestKeycloak | null = _keycloak();
const inCi = Deno.env.get("CI") === "true";
const why = () => Deno.env.get("TEST_KEYCLOAK_UNAVAILABLE") ?? "TEST_KEYCLOAK_URL unset";

if (keycloak === null && !inCi) {
  // deno-lint-ignore no-console
  console.error(
    `\n!!! tests/support/keycloak.ts: no Keycloak (${why()}), so the real-Keycloak tests are ` +
      "IGNORED.\n!!! Run through deno task test; with CI=true this fails.\n",
  );
}

/** A test that needs the real Keycloak. */
export function keycloakTest(name: string, fn: (kc: TestKeycloak) => Promise<void>): void {
  if (keycloak === null && !inCi) {
    Deno.test({
      name: `${name} (NEEDS KEYCLOAK: run through deno task test)`,
      ignore: true,
      fn: () => {},
    });
    return;
  }
  Deno.test(name, async () => {
    if (keycloak === null) throw new Error(`CI=true but no Keycloak: ${why()}`);
    await fn(keycloak);
  });
}
