// deno-lint-ignore-file no-console
/**
 * @module `deno task dev`: a development stack made on the fly — a throwaway PKI, a development
 * manifest, a local Synapse (unless SYNAPSE_URL points at one) and a local KV file, all under
 * `.local/dev/` and kept across restarts — then the service itself, with curl examples.
 * `deno task dev --with-keycloak` also starts a real Keycloak (fresh each time) with Synapse's
 * login wired to it, and a person who can log in to Matrix in a browser.
 */
import { writeDevPki } from "./pki.ts";
import { type Homeserver, startHomeserver } from "../synapse/homeserver.ts";
import { type SsoStack, startSsoStack } from "../keycloak/sso.ts";

const withKeycloak = Deno.args.includes("--with-keycloak");
const DEV_PERSON = { username: "devuser1a", password: "devuser1a-password" };

const root = new URL("../../", import.meta.url).pathname;
const dir = `${root}.local/dev`;
const HTTP_PORT = 8012;
const MTLS_PORT = 4625;
const SERVER_NAME = "localdev.test";

const pki = await writeDevPki(`${dir}/pki`);
const manifestPath = `${dir}/kraftwerk-init.json`;
await Deno.writeTextFile(
  manifestPath,
  JSON.stringify(
    {
      deployment: "localdev",
      rasenmaeher: {
        init: { base_uri: "https://localhost:4439/", csr_jwt: "dev-only" },
        mtls: { base_uri: "https://mtls.localhost:4439/" },
        certcn: "rasenmaeher",
      },
      product: {
        dns: `matrix.${SERVER_NAME}`,
        api: `https://localhost:${MTLS_PORT}/`,
        uri: `https://localhost:${MTLS_PORT}/`,
      },
    },
    null,
    2,
  ),
);

let synapseUrl = Deno.env.get("SYNAPSE_URL");
let secret = Deno.env.get("SYNAPSE_REGISTRATION_SECRET");
let homeserver: Homeserver | null = null;
let sso: SsoStack | null = null;
const registrationPath = `${dir}/data/oidc/registration.json`;
if (withKeycloak) {
  if (synapseUrl !== undefined) {
    console.error("--with-keycloak starts its own Synapse: unset SYNAPSE_URL");
    Deno.exit(64);
  }
  // Keycloak is new on every start, so the previous run's client is gone with it.
  await Deno.remove(registrationPath).catch(() => {});
  console.log("starting Keycloak (first run installs it from Maven Central)…");
  sso = await startSsoStack({
    registrationPath,
    synapsePublicUrl: "http://127.0.0.1:8008/",
    realm: "localdev",
    log: (line) => console.log(line),
  });
  await sso.keycloak.createUser(sso.realm, DEV_PERSON);
}
if (synapseUrl === undefined) {
  const hsDir = `${dir}/synapse`;
  await Deno.mkdir(hsDir, { recursive: true });
  const secretFile = `${hsDir}/registration_secret`;
  secret = await Deno.readTextFile(secretFile).catch(() => null) ?? crypto.randomUUID();
  await Deno.writeTextFile(secretFile, secret, { mode: 0o600 });
  console.log(
    "starting a local Synapse (first run installs it from PyPI; this can take a minute)…",
  );
  homeserver = await startHomeserver({
    dir: hsDir,
    serverName: SERVER_NAME,
    port: 8008,
    registrationSecret: secret,
    ...(sso === null ? {} : { oidc: sso.provider }),
  });
  synapseUrl = homeserver.url;
}

const env: Record<string, string> = {
  SYNAPSE_URL: synapseUrl,
  SYNAPSE_REGISTRATION_SECRET: secret ?? "dev-only-secret",
  SYNAPSE_PUBLIC_URL: synapseUrl,
  KRAFTWERK_MANIFEST: manifestPath,
  PERSISTENT_DATA_PATH: `${dir}/data`,
  SYNAPSE_TOKEN_FILE: `${dir}/data/synapse_admin_token`,
  MTLS_SERVER_CERT_PATH: pki.serverCert,
  MTLS_SERVER_KEY_PATH: pki.serverKey,
  CLIENT_CERT_PATH: pki.serverCert,
  CLIENT_KEY_PATH: pki.serverKey,
  LOCAL_CA_CERTS_PATH: pki.caDir,
  MTLS_CRL_PATH: pki.crl,
  MTLS_PORT: String(MTLS_PORT),
  HTTP_PORT: String(HTTP_PORT),
  BIND_HOST: "127.0.0.1",
  LOG_LEVEL: Deno.env.get("LOG_LEVEL") ?? "INFO",
  LOG_CONSOLE_FORMATTER: "local",
  ...(sso === null ? {} : {
    KEYCLOAK_URL: `${sso.keycloak.url}/`,
    KCREALM: sso.realm,
    OIDC_REGISTRATION_PATH: registrationPath,
  }),
};

const body = `'{"uuid":"dev-1","callsign":"DEVUSER1a","x509cert":"-"}'`;
const as = (who: "rm" | "user") =>
  `-sS --cacert ${pki.caChain} --cert ${who === "rm" ? pki.rmCert : pki.userCert} ` +
  `--key ${who === "rm" ? pki.rmKey : pki.userKey}`;
console.log(`
matrixrmapi development stack (state in ${dir})
  public:  curl http://127.0.0.1:${HTTP_PORT}/api/v1/healthcheck
  status:  curl http://127.0.0.1:${HTTP_PORT}/api/v1/status
  docs:    http://127.0.0.1:${HTTP_PORT}/api/docs
  as RM:   curl ${
  as("rm")
} -H 'content-type: application/json' -d ${body} https://localhost:${MTLS_PORT}/api/v1/users/created
  as user: curl ${
  as("user")
} -H 'content-type: application/json' -d ${body} https://localhost:${MTLS_PORT}/api/v2/clients/data
Synapse: ${synapseUrl}${
  homeserver ? ` (server name ${SERVER_NAME}, log in ${dir}/synapse/homeserver.log)` : ""
}${
  sso === null ? "" : `
Keycloak: ${sso.keycloak.url}/admin (admin ${sso.keycloak.adminUser} / ${sso.keycloak.adminPassword})
  log in to Matrix as a person (${DEV_PERSON.username} / ${DEV_PERSON.password}) in a browser:
  ${synapseUrl}/_matrix/client/v3/login/sso/redirect/oidc-keycloak?redirectUrl=http://localhost/`
}
Stop with Ctrl-C.
`);

const child = new Deno.Command(Deno.execPath(), {
  args: ["run", "--allow-all", `${root}main.ts`, "serve"],
  env,
  stdin: "null",
}).spawn();
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, () => child.kill("SIGTERM"));
}
const status = await child.status;
await homeserver?.stop();
await sso?.keycloak.stop();
Deno.exit(status.code);
