/**
 * @module An upgrade from the Python image, as the image runs (the bundle, a bare `deno run`, the
 * production permission set, the image's user 65532): a root-owned volume is named file by file
 * with the fix, `prepare-volumes` (as root) adopts it, and the service then starts on it.
 */
import assert from "node:assert/strict";
import { bundle } from "../../tools/bundle.ts";
import { servicePermissions } from "../../tools/permissions.ts";
import { freePort, runMain } from "../support/process.ts";
import { waitFor } from "../support/wait.ts";
import { writeDevPki } from "../../tools/dev/pki.ts";
import { PREPARE_COMMAND } from "../../src/service/volumes.ts";

const FLAGS = ["--no-config", "--no-lock", "--cached-only"];

/** `deno run <bundle> serve` as uid/gid 65532 (util-linux setpriv), with exactly `env`. */
function serveAsImageUser(path: string, env: Record<string, string>, denoDir: string) {
  return new Deno.Command("setpriv", {
    args: [
      "--reuid=65532",
      "--regid=65532",
      "--clear-groups",
      Deno.execPath(),
      "run",
      ...FLAGS,
      ...servicePermissions(env),
      path,
      "serve",
    ],
    env: { PATH: Deno.env.get("PATH") ?? "", NO_COLOR: "1", DENO_DIR: denoDir, ...env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

Deno.test("a root-owned 0600 volume is named with the fix, and works after prepare-volumes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "upgrade-" });
  await Deno.chmod(dir, 0o755); // the image user must reach the bundle, the CA and its DENO_DIR
  const children: Deno.ChildProcess[] = [];
  try {
    const path = await bundle(`${dir}/matrixrmapi.js`);
    await Deno.chmod(path, 0o644);
    const pki = await writeDevPki(`${dir}/pki`);
    for await (const e of Deno.readDir(pki.caDir)) {
      await Deno.chmod(`${pki.caDir}/${e.name}`, 0o644);
    }
    await Deno.chmod(`${dir}/pki`, 0o755);
    const denoDir = `${dir}/deno-dir`;
    await Deno.mkdir(denoDir);
    await Deno.chown(denoDir, 65532, 65532);
    // The volume as the Python image (root, no USER) leaves it.
    const data = `${dir}/data`;
    await Deno.mkdir(data, { mode: 0o755 });
    await Deno.writeTextFile(`${data}/synapse_admin_token`, "syt_old_token", { mode: 0o600 });
    const httpPort = freePort();
    const env = {
      SYNAPSE_URL: "http://127.0.0.1:9",
      SYNAPSE_REGISTRATION_SECRET: "upgrade-secret",
      KRAFTWERK_MANIFEST: `${dir}/missing.json`,
      PERSISTENT_DATA_PATH: data,
      LOCAL_CA_CERTS_PATH: pki.caDir,
      MTLS_ENABLED: "false",
      HTTP_PORT: String(httpPort),
      BIND_HOST: "127.0.0.1",
    };

    const before = serveAsImageUser(path, env, denoDir);
    children.push(before);
    const refused = await before.output();
    const said = new TextDecoder().decode(refused.stdout) +
      new TextDecoder().decode(refused.stderr);
    assert.notEqual(refused.code, 0, "it cannot run on a volume it cannot write");
    assert.ok(
      said.includes(
        `cannot read \\"${data}/synapse_admin_token\\": owned by uid 0 gid 0 with mode 0600`,
      ),
      said,
    );
    assert.ok(said.includes(`cannot write \\"${data}\\"`), said);
    assert.ok(said.includes(PREPARE_COMMAND), said);

    const prepared = await runMain(["prepare-volumes"], { PERSISTENT_DATA_PATH: data }, {
      path,
      flags: FLAGS,
      denoEnv: { DENO_DIR: `${dir}/root-deno-dir` },
    });
    assert.equal(prepared.code, 0, prepared.stderr);
    assert.match(prepared.stdout, new RegExp(`created ${data}/oidc`));
    assert.equal((await Deno.stat(`${data}/synapse_admin_token`)).mode! & 0o777, 0o600);

    const after = serveAsImageUser(path, env, denoDir);
    children.push(after);
    const status = await waitFor("the service on the adopted volume", async () => {
      const res = await fetch(`http://127.0.0.1:${httpPort}/api/v1/status`).catch(() => null);
      return res?.ok ? await res.json() : null;
    }, { timeoutMs: 20_000, intervalMs: 200 });
    assert.equal(status.mtls_listener.phase, "disabled");
    after.kill("SIGTERM");
    const out = await after.output();
    const log = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.doesNotMatch(log, /cannot (read|write) "/);
    assert.doesNotMatch(log, /NotCapable|Requires (read|write) access/);
    assert.ok(
      (await Deno.stat(`${data}/matrixrmapi.kv`)).uid === 65532,
      "KV written by the image user",
    );
  } finally {
    for (const child of children) {
      try {
        child.kill("SIGKILL");
      } catch { /* ended */ }
      await child.status;
    }
    await Deno.remove(dir, { recursive: true });
  }
});
