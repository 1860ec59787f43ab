/**
 * @module The service as a process on a fresh volume with a manifest whose RM is the fake RM: the
 * first-run duties (certificate, Keycloak client) run for real, against the fake RM's CA.
 */
import { type DevPkiPaths, type TestPki, writeDevPki } from "../../tools/dev/pki.ts";
import type { FakeRm } from "./fake_rm.ts";
import { type ServiceProcess, startServiceProcess } from "./service.ts";

export interface FirstRunService {
  readonly service: ServiceProcess;
  readonly dir: string;
  readonly manifest: string;
  readonly certPath: string;
  readonly keyPath: string;
  /** The dev PKI: RM's client certificate for calling the service. */
  readonly dev: DevPkiPaths;
  /** RM's CA chain, which the service's own certificate chains to. */
  readonly rmCa: string;
  /** The service's status JSON. */
  status(): Promise<Record<string, Record<string, unknown>>>;
}

export interface FirstRunOptions {
  readonly rm: FakeRm;
  readonly pki: TestPki;
  /** `product.dns`. */
  readonly dns: string;
  /** Reuse this volume (a restart); a fresh one when absent. */
  readonly dir?: string;
  readonly env?: Record<string, string>;
}

export async function startFirstRunService(o: FirstRunOptions): Promise<FirstRunService> {
  const dir = o.dir ?? await Deno.makeTempDir({ prefix: "first-run-" });
  // The service trusts the dev PKI (RM's client certificate) and RM's CA (its own certificate).
  const dev = await writeDevPki(`${dir}/pki`);
  const rmCa = `${dev.caDir}/rm_ca_chain.pem`;
  await Deno.writeTextFile(rmCa, o.pki.chainPem);
  const manifest = `${dir}/kraftwerk-init.json`;
  if (o.dir === undefined) {
    await Deno.writeTextFile(
      manifest,
      JSON.stringify({
        deployment: "firstrun",
        rasenmaeher: {
          init: { base_uri: o.rm.initBaseUri, csr_jwt: await o.rm.issueCsrJwt({ sub: o.dns }) },
          mtls: { base_uri: o.rm.baseUri },
          certcn: "rasenmaeher",
        },
        product: { dns: o.dns },
      }),
    );
  }
  const certPath = `${dir}/data/public/mtlsclient.pem`;
  const keyPath = `${dir}/data/private/mtlsclient.key`;
  const service = await startServiceProcess({
    dir,
    env: {
      KRAFTWERK_MANIFEST: manifest,
      // The listener presents the product certificate (the default when these are unset).
      MTLS_SERVER_CERT_PATH: certPath,
      MTLS_SERVER_KEY_PATH: keyPath,
      MTLS_CRL_PATH: "",
      RECONCILE_INTERVAL_S: "0",
      ...o.env,
    },
  });
  return {
    service,
    dir,
    manifest,
    certPath,
    keyPath,
    dev,
    rmCa,
    status: async () => JSON.parse((await service.plainGet("/api/v1/status")).text),
  };
}
