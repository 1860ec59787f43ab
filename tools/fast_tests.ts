/**
 * @module `deno task test:fast`: every test file that needs no Synapse, no Keycloak, no CFSSL and
 * no service process, chosen by what it imports (directly or through other local modules), so a new
 * test file joins the fast tier by itself; `deno task test` still runs them all. Extra arguments
 * go to `deno test` (e.g. `--filter x`).
 */

/** Modules whose importers need a homeserver, Keycloak, CFSSL or the service as a process. */
const SLOW_MODULES = [
  "tests/support/synapse.ts",
  "tests/support/keycloak.ts",
  "tests/support/cfssl.ts",
  "tests/support/service.ts",
  "tests/support/process.ts",
  "tests/support/bootstrap.ts",
  "tests/support/lifecycle.ts",
  "tools/synapse/",
  "tools/keycloak/",
];

/** Self-contained but too slow for the fast tier's 30 s budget on two cores, and why. */
const SLOW_TESTS: Record<string, string> = {
  "tests/certificate/manager_test.ts": "RSA-4096 keys and real renewal timers, about 50 s",
};

const ROOT = new URL("../", import.meta.url);

/** Relative imports: `from "./x"`, `import "./x"`, `import("./x")`. */
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*)["'](\.{1,2}\/[^"']+)["']/g;

/** The fast tier's test files, relative to the project root, sorted. */
export async function fastTestFiles(root: URL = ROOT): Promise<string[]> {
  const imports = new Map<string, URL[]>(); // module URL → its local imports, read once
  const fast: string[] = [];
  for (const file of await _testFiles(new URL("tests/", root))) {
    const path = file.href.slice(root.href.length);
    if (!(path in SLOW_TESTS) && !(await _needsSlow(file, root, imports))) fast.push(path);
  }
  return fast.sort();
}

/** Whether `test` imports a slow module, however indirectly. */
async function _needsSlow(test: URL, root: URL, imports: Map<string, URL[]>): Promise<boolean> {
  const seen = new Set<string>();
  const queue = [test];
  // Bounded: every module is expanded at most once.
  for (let module = queue.pop(); module !== undefined; module = queue.pop()) {
    if (seen.has(module.href)) continue;
    seen.add(module.href);
    const path = module.href.slice(root.href.length);
    if (SLOW_MODULES.some((slow) => slow.endsWith("/") ? path.startsWith(slow) : path === slow)) {
      return true;
    }
    if (!imports.has(module.href)) {
      const source = await Deno.readTextFile(module).catch(() => "");
      imports.set(module.href, [...source.matchAll(IMPORT)].map((m) => new URL(m[1]!, module)));
    }
    queue.push(...imports.get(module.href)!);
  }
  return false;
}

/** Every `*_test.ts` under `dir`. */
async function _testFiles(dir: URL): Promise<URL[]> {
  const out: URL[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
    if (entry.isDirectory) out.push(...await _testFiles(url));
    else if (entry.isFile && entry.name.endsWith("_test.ts")) out.push(url);
  }
  return out;
}

if (import.meta.main) {
  const files = await fastTestFiles();
  if (files.length === 0) throw new Error("Cannot find any fast test file under tests/");
  // deno-lint-ignore no-console
  console.error(`test:fast: ${files.length} files (no Synapse, Keycloak or service process)`);
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: ["test", "--allow-all", "--frozen", ...Deno.args, ...files],
    cwd: ROOT,
    stdin: "null",
  }).spawn().status;
  Deno.exit(code);
}
