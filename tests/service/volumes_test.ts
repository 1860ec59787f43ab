/** @module prepareVolumes() on a volume as the Python image leaves it (root-owned, 0600). */
import assert from "node:assert/strict";
import { prepareVolumes } from "../../src/service/volumes.ts";
import type { VolumePaths } from "../../src/config/config.ts";

const ME = { uid: 65532, gid: 65532 };

async function pythonVolume(): Promise<{ root: string; paths: VolumePaths }> {
  const root = await Deno.makeTempDir({ prefix: "volume-" });
  const data = `${root}/data`;
  for (const dir of ["private", "public"]) await Deno.mkdir(`${data}/${dir}`, { recursive: true });
  const files: Array<[string, number]> = [
    [`${data}/synapse_admin_token`, 0o600],
    [`${data}/private/mtlsclient.key`, 0o600],
    [`${data}/public/mtlsclient.pem`, 0o644],
  ];
  for (const [path, mode] of files) {
    await Deno.writeTextFile(path, "x");
    await Deno.chmod(path, mode);
    await Deno.chown(path, 0, 0);
  }
  await Deno.symlink("/etc/hostname", `${data}/a-link`);
  await Deno.mkdir(`${root}/pvarki`);
  await Deno.writeTextFile(`${root}/pvarki/kraftwerk-init.json`, "{}");
  return {
    root,
    paths: {
      dataPath: data,
      kvPath: `${data}/matrixrmapi.kv`,
      registrationPath: `${data}/oidc/registration.json`,
      legacyTokenFile: `${data}/synapse_admin_token`,
      clientCertPath: `${data}/public/mtlsclient.pem`,
      clientKeyPath: `${data}/private/mtlsclient.key`,
    },
  };
}

Deno.test("prepareVolumes() makes the volume the image user's, creates the oidc mount point, and changes no mode", async () => {
  const { root, paths } = await pythonVolume();
  try {
    const report = await prepareVolumes(paths, ME);
    assert.deepEqual(report.created, [`${paths.dataPath}/oidc`]);
    for (
      const [path, mode] of [
        [paths.legacyTokenFile, 0o600],
        [paths.clientKeyPath, 0o600],
        [paths.clientCertPath, 0o644],
      ] as const
    ) {
      const info = await Deno.stat(path);
      assert.deepEqual([info.uid, info.gid], [ME.uid, ME.gid], path);
      assert.equal(info.mode! & 0o777, mode, `${path} keeps its mode`);
    }
    assert.equal((await Deno.stat(`${paths.dataPath}/oidc`)).uid, ME.uid);
    assert.equal((await Deno.lstat(`${paths.dataPath}/a-link`)).uid, 0, "a link is left alone");
    assert.equal((await Deno.stat("/etc/hostname")).uid, 0, "and not followed");
    assert.equal((await Deno.stat(`${root}/pvarki/kraftwerk-init.json`)).uid, 0, "nothing outside");
    assert.ok(report.chowned >= 6, `chowned ${report.chowned}`);
    const again = await prepareVolumes(paths, ME);
    assert.deepEqual([again.created, again.chowned], [[], 0], "idempotent");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
