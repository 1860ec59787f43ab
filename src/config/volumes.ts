/**
 * @module The volumes and files the service writes, from the environment with the service's own
 * defaults: what `prepare-volumes` needs, and nothing else.
 */
import { z } from "zod";
import { EnvSchema } from "./env.ts";

/** The volumes and files the service writes. */
export interface VolumePaths {
  readonly dataPath: string;
  readonly kvPath: string;
  readonly registrationPath: string;
  readonly legacyTokenFile: string;
  readonly clientCertPath: string;
  readonly clientKeyPath: string;
}

const VolumeSchema = EnvSchema.pick({
  PERSISTENT_DATA_PATH: true,
  KV_PATH: true,
  OIDC_REGISTRATION_PATH: true,
  SYNAPSE_TOKEN_FILE: true,
  CLIENT_CERT_PATH: true,
  CLIENT_KEY_PATH: true,
});

/** The paths of `VolumePaths` from the process environment, with the service's own defaults. */
export function loadVolumePathsFromProcess():
  | { ok: true; paths: VolumePaths }
  | { ok: false; problems: string[] } {
  const env = Object.fromEntries(
    Object.keys(VolumeSchema.shape).map((name) => [name, Deno.env.get(name)]),
  );
  const parsed = VolumeSchema.safeParse(env);
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`),
    };
  }
  return { ok: true, paths: volumePaths(parsed.data) };
}

/** Where the service keeps its files: the variables, or their places on the data volume. */
export function volumePaths(e: z.infer<typeof VolumeSchema>): VolumePaths {
  const data = e.PERSISTENT_DATA_PATH;
  return {
    dataPath: data,
    kvPath: e.KV_PATH ?? `${data}/matrixrmapi.kv`,
    registrationPath: e.OIDC_REGISTRATION_PATH ?? `${data}/oidc/registration.json`,
    // The Python original kept it here (its PERSISTENT_DATA_PATH is /data/persistent).
    legacyTokenFile: e.SYNAPSE_TOKEN_FILE ?? `${data}/synapse_admin_token`,
    clientCertPath: e.CLIENT_CERT_PATH ?? `${data}/public/mtlsclient.pem`,
    clientKeyPath: e.CLIENT_KEY_PATH ?? `${data}/private/mtlsclient.key`,
  };
}
