// deno-lint-ignore-file no-console
/**
 * @module The service's permission set, defined once: `deno task start`, `deno task compile`,
 * the bundle smoke test and every test that starts the service as a process use it, so a missing
 * permission fails a test instead of production. Paths follow the same variables (and defaults)
 * as the configuration, so tests can point them at temporary directories.
 */
import { ENV_NAMES } from "../src/config/config.ts";

/** Production layout: the ecosystem's volumes. */
export const PRODUCTION_ENV: Readonly<Record<string, string>> = {
  PERSISTENT_DATA_PATH: "/data/persistent",
  KRAFTWERK_MANIFEST: "/pvarki/kraftwerk-init.json",
  LOCAL_CA_CERTS_PATH: "/ca_public",
};

/**
 * Where the image looks for files kept outside the volumes: the deployment's own certificates
 * (`le_certs`, as the products' nginx mounts it) and Secrets (Docker's `/run/secrets`, a
 * Kubernetes Secret under `/etc/matrixrmapi`). The executable's permission set is fixed when it
 * is compiled, so a pair the image should read must lie under one of these (or in a volume).
 */
export const PRODUCTION_READ_ROOTS: readonly string[] = [
  "/le_certs",
  "/run/secrets",
  "/etc/matrixrmapi",
];

function _dir(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

/**
 * Deno flags for running the service with `env`: network; read of the manifest, the CA
 * directory, the data directory and any file set outside it; write of the data directory (and
 * the KV file's directory) only; exactly the environment variables the configuration reads; KV.
 */
export function servicePermissions(
  env: Readonly<Record<string, string | undefined>> = {},
  options: { extraReadRoots?: readonly string[] } = {},
): string[] {
  const get = (name: string) => env[name] ?? PRODUCTION_ENV[name];
  const data = get("PERSISTENT_DATA_PATH")!;
  const outside = (p: string | undefined): p is string =>
    p !== undefined && p !== "" && !p.startsWith(data + "/");
  const files = ["KRAFTWERK_MANIFEST", "MTLS_CRL_PATH", "SYNAPSE_TOKEN_FILE"].map(get)
    .filter(outside);
  // A pair outside the volume is read with its directory: a Kubernetes Secret swaps a `..data`
  // link beside the files, and the listener and the certificate manager watch for changes there.
  const pairDirs = [
    "CLIENT_CERT_PATH",
    "CLIENT_KEY_PATH",
    "MTLS_SERVER_CERT_PATH",
    "MTLS_SERVER_KEY_PATH",
  ]
    .map(get).filter(outside).map(_dir);
  const kv = get("KV_PATH");
  const read = [
    ...new Set([
      data,
      get("LOCAL_CA_CERTS_PATH")!,
      ...files,
      ...pairDirs,
      ...(options.extraReadRoots ?? []),
      ...(kv ? [_dir(kv)] : []),
    ]),
  ];
  const write = [...new Set([data, ...(kv ? [_dir(kv)] : [])])];
  return [
    "--no-prompt",
    // A 1 MiB young generation: about 7 MiB less resident memory (tools/bench measures the cost).
    "--v8-flags=--max-semi-space-size=1",
    "--unstable-kv",
    "--allow-net",
    `--allow-read=${read.join(",")}`,
    `--allow-write=${write.join(",")}`,
    `--allow-env=${ENV_NAMES.join(",")}`,
  ];
}

if (import.meta.main) {
  // `deno run tools/permissions.ts` prints the production set (for people and the Dockerfile).
  console.log(servicePermissions({}, { extraReadRoots: PRODUCTION_READ_ROOTS }).join(" "));
}
