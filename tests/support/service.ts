/**
 * @module The service as a real process for end-to-end tests: a generated PKI, free ports, the
 * production permission set, and clients for both listeners (RM and a person over mTLS; plain).
 */
import { type DevPkiPaths, writeDevPki } from "../../tools/dev/pki.ts";
import { type Entry, freePort, type Output, startMain } from "./process.ts";

export interface ServiceOptions {
  /** Keep state here (a restart reuses it); a fresh temporary directory when absent. */
  readonly dir?: string;
  /** Variables on top of the defaults (an unreachable Synapse, a missing manifest, loopback). */
  readonly env?: Record<string, string>;
  readonly entry?: Entry;
  /** Wait for the plain listener only, or for the bootstrap to be ready. @default "listening" */
  readonly until?: "listening" | "ready";
}

export interface ServiceProcess {
  readonly dir: string;
  readonly pki: DevPkiPaths;
  readonly httpPort: number;
  readonly mtlsPort: number;
  /** The service's process id (to read its memory and open files from /proc). */
  readonly pid: number;
  /** POST `body` over mTLS as RM or as a person. */
  call(who: "rm" | "user", path: string, body: unknown): Promise<{ status: number; text: string }>;
  plainGet(path: string): Promise<{ status: number; text: string }>;
  plainPost(
    path: string,
    body: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; text: string }>;
  /** SIGTERM; removes the directory if this helper made it. */
  stop(): Promise<Output>;
  kill9(): Promise<Output>;
}

/** A manifest for `deployment` on `serverName`, written to `path`. */
export async function writeManifest(
  path: string,
  deployment: string,
  serverName: string,
): Promise<string> {
  await Deno.writeTextFile(
    path,
    JSON.stringify({
      deployment,
      rasenmaeher: { certcn: "rasenmaeher" },
      product: { dns: `matrix.${serverName}` },
    }),
  );
  return path;
}

export async function startServiceProcess(o: ServiceOptions = {}): Promise<ServiceProcess> {
  const dir = o.dir ?? await Deno.makeTempDir({ prefix: "service-" });
  const pki = await writeDevPki(`${dir}/pki`);
  const httpPort = freePort();
  const mtlsPort = freePort();
  const env = {
    SYNAPSE_URL: "http://127.0.0.1:9",
    SYNAPSE_REGISTRATION_SECRET: "e2e-secret",
    KRAFTWERK_MANIFEST: `${dir}/missing.json`,
    PERSISTENT_DATA_PATH: `${dir}/data`,
    MTLS_SERVER_CERT_PATH: pki.serverCert,
    MTLS_SERVER_KEY_PATH: pki.serverKey,
    LOCAL_CA_CERTS_PATH: pki.caDir,
    MTLS_CRL_PATH: pki.crl,
    MTLS_PORT: String(mtlsPort),
    HTTP_PORT: String(httpPort),
    BIND_HOST: "127.0.0.1",
    ...o.env,
  };
  const plain = `http://127.0.0.1:${httpPort}`;
  const main = await startMain(env, async () => {
    const res = await fetch(`${plain}/api/v1/status`);
    const status = await res.json();
    return o.until === "ready" ? status.bootstrap.phase === "ready" : res.ok;
  }, o.entry);
  const read = async (res: Response) => ({ status: res.status, text: await res.text() });
  const cleanup = async (out: Output) => {
    if (o.dir === undefined) await Deno.remove(dir, { recursive: true });
    return out;
  };
  return {
    dir,
    pki,
    httpPort,
    mtlsPort,
    pid: main.pid,
    async call(who, path, body) {
      const client = Deno.createHttpClient({
        caCerts: [await Deno.readTextFile(pki.caChain)],
        cert: await Deno.readTextFile(who === "rm" ? pki.rmCert : pki.userCert),
        key: await Deno.readTextFile(who === "rm" ? pki.rmKey : pki.userKey),
      });
      try {
        return await read(
          await fetch(`https://localhost:${mtlsPort}${path}`, {
            client,
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify(body),
          }),
        );
      } finally {
        client.close();
      }
    },
    plainGet: async (path) => read(await fetch(`${plain}${path}`)),
    plainPost: async (path, body, headers = {}) =>
      read(
        await fetch(`${plain}${path}`, {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body: JSON.stringify(body),
        }),
      ),
    stop: async () => cleanup(await main.stop()),
    kill9: () => main.kill9(),
  };
}

/** A raw TLS connection to the service's mTLS listener with RM's certificate (not yet shaken). */
export async function connectAsRm(s: ServiceProcess): Promise<Deno.TlsConn> {
  const [ca, cert, key] = await Promise.all([
    Deno.readTextFile(s.pki.caChain),
    Deno.readTextFile(s.pki.rmCert),
    Deno.readTextFile(s.pki.rmKey),
  ]);
  return await Deno.connectTls({
    hostname: "localhost",
    port: s.mtlsPort,
    caCerts: [ca],
    cert,
    key,
  });
}
