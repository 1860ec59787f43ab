// deno-lint-ignore-file no-console
/**
 * @module `deno task compile`: one self-contained executable with the production permission
 * set baked in and the build stamped into `version`. `deno compile` needs Deno's runtime
 * (`denort`): it downloads it, or takes `DENORT_BIN` (a denort executable) on offline machines.
 */
import { PRODUCTION_READ_ROOTS, servicePermissions } from "./permissions.ts";

const root = new URL("../", import.meta.url).pathname;
const versionFile = `${root}src/version.ts`;
const output = Deno.args[0] ?? `${root}.local/dist/matrixrmapi`;

async function git(...args: string[]): Promise<string> {
  const out = await new Deno.Command("git", { args, cwd: root, stderr: "null" }).output().catch(
    () => null,
  );
  return out?.success ? new TextDecoder().decode(out.stdout).trim() : "unknown";
}

const original = await Deno.readTextFile(versionFile);
// Docker builds have no .git: they pass the commit in BUILD_COMMIT.
const commit = Deno.env.get("BUILD_COMMIT") ?? await git("rev-parse", "--short=12", "HEAD");
const dirty =
  Deno.env.get("BUILD_COMMIT") !== undefined || (await git("status", "--porcelain")) === ""
    ? ""
    : "+dirty";
const stamped = original.replace(
  /commit: "source",\n {2}builtAt: null,/,
  `commit: ${JSON.stringify(commit + dirty)},\n  builtAt: ${
    JSON.stringify(new Date().toISOString())
  },`,
);
if (stamped === original) throw new Error("Cannot stamp src/version.ts: its BUILD literal changed");

await Deno.mkdir(output.slice(0, output.lastIndexOf("/")) || ".", { recursive: true });
await Deno.writeTextFile(versionFile, stamped);
let status: Deno.CommandStatus;
try {
  const args = [
    "compile",
    "--frozen",
    ...servicePermissions({}, { extraReadRoots: PRODUCTION_READ_ROOTS }),
    "--output",
    output,
    `${root}main.ts`,
  ];
  console.error(`deno ${args.join(" ")}`);
  status = await new Deno.Command(Deno.execPath(), { args, cwd: root }).spawn().status;
} finally {
  // Always put the source back (Deno.exit would skip a finally, so it comes after).
  await Deno.writeTextFile(versionFile, original);
}
if (!status.success) {
  console.error(
    "\ndeno compile failed. Without internet access it needs DENORT_BIN=<path to a denort " +
      `${Deno.version.deno} executable for this platform> (see docs/operations/deploying.md, "Building the executable").`,
  );
  Deno.exit(status.code || 1);
}
console.error(`built ${output}`);
