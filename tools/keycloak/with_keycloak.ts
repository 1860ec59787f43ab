// deno-lint-ignore-file no-console
/**
 * @module Runs a command beside one real Keycloak (master realm only), its URL and bootstrap
 * admin handed over in the environment, stopped when the command ends. Composes with the
 * Synapse wrapper, whose variables the command inherits as well:
 * `deno run -A tools/synapse/with_homeserver.ts deno run -A tools/keycloak/with_keycloak.ts
 * deno test -A tests/`.
 */
import { type Keycloak, KeycloakUnavailableError, startKeycloak } from "./keycloak.ts";

const [cmd, ...args] = Deno.args;
if (cmd === undefined) {
  console.error("usage: with_keycloak.ts <command> [args...]");
  Deno.exit(64);
}

// Keycloak runs in a session of its own (no terminal's Ctrl-C reaches it): a signal while it
// starts aborts the start, and once the command runs the signal goes to the command.
let child: Deno.ChildProcess | null = null;
const starting = new AbortController();
const onSignal = () => child === null ? starting.abort() : child.kill("SIGTERM");
Deno.addSignalListener("SIGINT", onSignal);
Deno.addSignalListener("SIGTERM", onSignal);

let kc: Keycloak | null = null;
// Added to this process's environment, which the command inherits whole.
const env: Record<string, string> = {};
try {
  kc = await startKeycloak({ signal: starting.signal });
  env.TEST_KEYCLOAK_URL = kc.url;
  env.TEST_KEYCLOAK_ADMIN_USER = kc.adminUser;
  env.TEST_KEYCLOAK_ADMIN_PASSWORD = kc.adminPassword;
  console.error(`with_keycloak: Keycloak at ${kc.url} (state in ${kc.dir})`);
} catch (err) {
  if (starting.signal.aborted) {
    console.error("with_keycloak: interrupted while Keycloak was starting");
    Deno.exit(130);
  }
  if (!(err instanceof KeycloakUnavailableError) || Deno.env.get("CI") === "true") throw err;
  console.error(
    "\n!!! with_keycloak: NO KEYCLOAK — it cannot be installed here, so every test that needs a " +
      `real Keycloak is SKIPPED.\n!!! ${err.message}\n`,
  );
  env.TEST_KEYCLOAK_UNAVAILABLE = err.message;
}

if (starting.signal.aborted) {
  await kc?.stop();
  Deno.exit(130);
}

// "deno" means this Deno: it need not be on PATH (tools/deno provides it).
child = new Deno.Command(cmd === "deno" ? Deno.execPath() : cmd, {
  args,
  env,
  stdin: "inherit",
}).spawn();
const status = await child.status;
await kc?.stop();
// A passing run leaves nothing behind; a failing one keeps Keycloak's logs for reading.
if (kc !== null && status.code === 0) await Deno.remove(kc.dir, { recursive: true });
Deno.exit(status.code);
