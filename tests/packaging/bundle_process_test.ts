/**
 * The self-contained proof CI can give without `deno compile`: the bundled service, run with a
 * bare `deno run`, an empty module cache (no downloads allowed) and the production permission
 * set, starts, passes its healthcheck and answers an authenticated call.
 */
import assert from "node:assert/strict";
import { bundle } from "../../tools/bundle.ts";
import { runMain } from "../support/process.ts";
import { startServiceProcess } from "../support/service.ts";
import { crud } from "../support/app.ts";

Deno.test("the bundled service runs from an empty cache under the production permission set", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bundle-" });
  try {
    const path = await bundle(`${dir}/matrixrmapi.js`);
    const entry = {
      path,
      flags: ["--no-config", "--no-lock", "--cached-only"],
      denoEnv: { DENO_DIR: `${dir}/empty-deno-dir` },
    };
    const version = await runMain(["version"], {}, entry);
    assert.equal(version.code, 0, version.stderr);
    assert.match(version.stdout, /^matrixrmapi \d+\.\d+\.\d+ \(commit /);

    const service = await startServiceProcess({
      dir,
      entry,
      env: { SYNAPSE_REGISTRATION_SECRET: "bundle-secret" },
    });
    try {
      const health = await runMain(
        ["healthcheck", "--host", "127.0.0.1", "--port", String(service.httpPort)],
        {},
        entry,
      );
      assert.equal(health.code, 0, health.stderr);
      const info = await service.call("rm", "/api/v2/clients/en/info.md", crud("BUNDLE1"));
      assert.equal(info.status, 200);
      assert.match(info.text, /@bundle1:/);
      const docs = await service.plainGet("/api/docs/swagger-ui-bundle.js");
      assert.equal(docs.status, 200);
      assert.ok(docs.text.length > 100_000, "the docs assets are embedded in the bundle");
    } finally {
      const out = await service.stop();
      assert.equal(out.code, 0, out.stderr);
      assert.doesNotMatch(out.stderr, /NotCapable|PermissionDenied/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
