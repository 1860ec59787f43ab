// deno-lint-ignore-file no-console
/**
 * @module `deno task bundle`: the whole service as one JavaScript file (`deno bundle`, offline).
 * CI runs it with a bare `deno run`, an empty module cache and the production permission set:
 * the proof, where `deno compile` cannot run, that the module graph is self-contained.
 */
const root = new URL("../", import.meta.url).pathname;

/** Bundles `main.ts` to `output` and returns its path. */
export async function bundle(output = `${root}.local/dist/matrixrmapi.js`): Promise<string> {
  await Deno.mkdir(output.slice(0, output.lastIndexOf("/")), { recursive: true });
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--frozen", "--platform", "deno", "--output", output, `${root}main.ts`],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`deno bundle failed:\n${new TextDecoder().decode(out.stderr)}`);
  return output;
}

if (import.meta.main) {
  const path = await bundle(Deno.args[0]);
  console.error(`bundled ${path} (${(await Deno.stat(path)).size} bytes)`);
}
