/**
 * @module `deno task test:fast`: every test file named without a tier (`x_test.ts`: in-process,
 * no Synapse, Keycloak, CFSSL or service process; tools/test_tiers.ts has the scheme and the check
 * that names agree with imports). `deno task test` still runs them all. Extra arguments go to
 * `deno test` (e.g. `--filter x`).
 */
import { fastTestFiles } from "./test_tiers.ts";

const ROOT = new URL("../", import.meta.url);

if (import.meta.main) {
  const files = await fastTestFiles(ROOT);
  if (files.length === 0) throw new Error("Cannot find any fast test file under tests/");
  // deno-lint-ignore no-console
  console.error(`test:fast: ${files.length} files named without a tier (x_test.ts)`);
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: ["test", "--allow-all", "--frozen", ...Deno.args, ...files],
    cwd: ROOT,
    stdin: "null",
  }).spawn().status;
  Deno.exit(code);
}
