// deno-lint-ignore-file no-console
/**
 * @module `deno task dev`: a development stack made on the fly — a throwaway PKI, a development
 * manifest and a local KV file under `.local/dev/` — then the service itself, with curl examples.
 */
import { writeDevPki } from "./pki.ts";

const root = new URL("../../", import.meta.url).pathname;
const dir = `${root}.local/dev`;
const HTTP_PORT = 8012;
const MTLS_PORT = 4625;

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
        dns: "matrix.localdev.test",
        api: `https://localhost:${MTLS_PORT}/`,
        uri: `https://localhost:${MTLS_PORT}/`,
      },
    },
    null,
    2,
  ),
);

const env: Record<string, string> = {
  SYNAPSE_URL: Deno.env.get("SYNAPSE_URL") ?? "http://127.0.0.1:8008",
  SYNAPSE_REGISTRATION_SECRET: Deno.env.get("SYNAPSE_REGISTRATION_SECRET") ?? "dev-only-secret",
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
};

const body = `'{"uuid":"dev-1","callsign":"DEVUSER1a","x509cert":"-"}'`;
const as = (who: "rm" | "user") =>
  `-sS --cacert ${pki.caChain} --cert ${who === "rm" ? pki.rmCert : pki.userCert} ` +
  `--key ${who === "rm" ? pki.rmKey : pki.userKey}`;
console.log(`
matrixrmapi development stack (state in ${dir})
  public:  curl http://127.0.0.1:${HTTP_PORT}/api/v1/healthcheck
  docs:    http://127.0.0.1:${HTTP_PORT}/api/docs
  as RM:   curl ${
  as("rm")
} -H 'content-type: application/json' -d ${body} https://localhost:${MTLS_PORT}/api/v1/users/created
  as user: curl ${
  as("user")
} -H 'content-type: application/json' -d ${body} https://localhost:${MTLS_PORT}/api/v2/clients/data
Synapse is expected at ${env.SYNAPSE_URL}. Stop with Ctrl-C.
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
Deno.exit(status.code);
