// deno-lint-ignore-file no-console
/**
 * @module `deno task test` and `deno task dev` run through this: one real Synapse for the whole
 * run, its URL and secret handed to the command in the environment, stopped when it ends. With
 * `--with-keycloak` first, one real Keycloak too, started before Synapse as in the deployment:
 * Synapse's OIDC client is registered by the service's own registration task, and Synapse starts
 * with single sign-on through it.
 */
import {
  ensureSynapseInstalled,
  type Homeserver,
  type OidcProvider,
  startHomeserver,
  SynapseUnavailableError,
} from "./homeserver.ts";
import { KeycloakUnavailableError } from "../keycloak/keycloak.ts";
import { type SsoStack, startSsoStack } from "../keycloak/sso.ts";
import { parseConfig } from "../../src/config/config.ts";
import { CfsslUnavailableError, ensureCfssl } from "../cfssl/install.ts";

const withKeycloak = Deno.args[0] === "--with-keycloak";
const [cmd, ...args] = withKeycloak ? Deno.args.slice(1) : Deno.args;
if (cmd === undefined) {
  console.error("usage: with_homeserver.ts [--with-keycloak] <command> [args...]");
  Deno.exit(64);
}
const inCi = Deno.env.get("CI") === "true";
/** Where a person's browser ends up after SSO; Synapse sends the login token there directly. */
const SSO_DONE = "http://localhost/sso-done";

let hs: Homeserver | null = null;
let sso: SsoStack | null = null;
const env: Record<string, string> = {};
const starting = new AbortController();
const onSignal = () => child === null ? starting.abort() : child.kill("SIGTERM");
let child: Deno.ChildProcess | null = null;
Deno.addSignalListener("SIGINT", onSignal);
Deno.addSignalListener("SIGTERM", onSignal);

// The real CA's tests need CFSSL 1.6.5: installed once into .local/go-bin (Go required).
try {
  const bins = await ensureCfssl((line) => console.error(`with_homeserver: ${line}`));
  env.TEST_CFSSL_BIN_DIR = bins.cfssl.replace(/\/cfssl$/, "");
  console.error(`with_homeserver: CFSSL at ${env.TEST_CFSSL_BIN_DIR}`);
} catch (err) {
  if (!(err instanceof CfsslUnavailableError) || inCi) throw err;
  console.error(
    "\n!!! with_homeserver: NO CFSSL — it cannot be installed here, so every test that needs the " +
      `real CA is SKIPPED.\n!!! ${err.message}\n`,
  );
  env.TEST_CFSSL_UNAVAILABLE = err.message;
}

try {
  let port: number | undefined;
  let oidc: OidcProvider | undefined;
  let publicBaseurl: string | undefined;
  if (withKeycloak) {
    // Synapse's callback is registered before Synapse starts, so its port is chosen first.
    port = _freePort();
    const dir = await Deno.makeTempDir({ prefix: "sso-" });
    // As in the ecosystem at port 443: Synapse's public_baseurl has no port, while a deployment
    // configured with `:443` (our compose file once did) registered the client with one. The
    // service's own configuration parser gives the callback it registers now.
    const serverName = Deno.env.get("TEST_SYNAPSE_SERVER_NAME") ?? "matrixrmapi.test";
    const stale = `https://synapse.${serverName}:443/`;
    publicBaseurl = await _servicePublicUrl(stale);
    try {
      sso = await startSsoStack({
        registrationPath: `${dir}/oidc/registration.json`,
        synapsePublicUrl: publicBaseurl,
        staleSynapsePublicUrl: stale,
        clientWhitelist: [SSO_DONE],
        signal: starting.signal,
        log: (line) => console.error(`with_homeserver: ${line}`),
      });
      oidc = sso.provider;
      env.TEST_KEYCLOAK_URL = sso.keycloak.url;
      env.TEST_KEYCLOAK_ADMIN_USER = sso.keycloak.adminUser;
      env.TEST_KEYCLOAK_ADMIN_PASSWORD = sso.keycloak.adminPassword;
      env.TEST_SSO_REALM = sso.realm;
      env.TEST_SSO_REGISTRATION = sso.registrationPath;
      env.TEST_SSO_DONE_URL = SSO_DONE;
      env.TEST_SYNAPSE_PUBLIC_URL = publicBaseurl;
      console.error(`with_homeserver: Keycloak at ${sso.keycloak.url}, realm ${sso.realm}`);
    } catch (err) {
      if (!(err instanceof KeycloakUnavailableError) || inCi) throw err;
      console.error(
        "\n!!! with_homeserver: NO KEYCLOAK — it cannot be installed here, so every test that " +
          `needs a real Keycloak is SKIPPED.\n!!! ${err.message}\n`,
      );
      env.TEST_KEYCLOAK_UNAVAILABLE = err.message;
    }
  }
  hs = await startHomeserver({
    serverName: Deno.env.get("TEST_SYNAPSE_SERVER_NAME") ?? "matrixrmapi.test",
    ...(port === undefined || oidc === undefined ? {} : { port, oidc }),
    ...(oidc === undefined || publicBaseurl === undefined ? {} : { publicBaseurl }),
  });
  env.TEST_SYNAPSE_URL = hs.url;
  env.TEST_SYNAPSE_SERVER_NAME = hs.serverName;
  env.TEST_SYNAPSE_SECRET = hs.registrationSecret;
  env.TEST_SYNAPSE_PYTHON = await ensureSynapseInstalled();
  if (oidc !== undefined) env.TEST_SYNAPSE_SSO = "keycloak";
  console.error(`with_homeserver: Synapse ${hs.serverName} at ${hs.url} (state in ${hs.dir})`);
} catch (err) {
  if (!(err instanceof SynapseUnavailableError) || inCi) {
    await sso?.keycloak.stop();
    throw err;
  }
  console.error(
    "\n!!! with_homeserver: NO SYNAPSE — Python/pip is missing, so every test that needs a real " +
      `homeserver is SKIPPED.\n!!! ${err.message}\n`,
  );
  env.TEST_SYNAPSE_UNAVAILABLE = err.message;
}

if (starting.signal.aborted) {
  await hs?.stop();
  await sso?.keycloak.stop();
  Deno.exit(130);
}

// "deno" means this Deno: it need not be on PATH (tools/deno provides it).
child = new Deno.Command(cmd === "deno" ? Deno.execPath() : cmd, {
  args,
  env,
  stdin: "inherit",
}).spawn();
const status = await child.status;
await hs?.stop();
await sso?.keycloak.stop();
// A passing run leaves nothing behind; a failing one keeps the servers' logs for reading.
if (status.code === 0) {
  if (hs !== null) await Deno.remove(hs.dir, { recursive: true });
  if (sso !== null) {
    await Deno.remove(sso.keycloak.dir, { recursive: true });
    await Deno.remove(sso.registrationPath.replace(/\/oidc\/registration\.json$/, ""), {
      recursive: true,
    });
  }
}
Deno.exit(status.code);

function _freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = l.addr.port;
  l.close();
  return port;
}

/** SYNAPSE_PUBLIC_URL as the service reads it (src/config/config.ts), for `given`. */
async function _servicePublicUrl(given: string): Promise<string> {
  const parsed = await parseConfig(
    { SYNAPSE_REGISTRATION_SECRET: "harness", SYNAPSE_PUBLIC_URL: given },
    () => Promise.resolve(null),
  );
  if (!parsed.ok) throw new Error(`Cannot read SYNAPSE_PUBLIC_URL: ${parsed.problems.join("; ")}`);
  return parsed.config.synapse.publicUrl;
}
