/**
 * @module Test tiers, read from file names, and the check that each name is right.
 *
 * A test file's tier is the word before `_test.ts`: `x_keycloak_test.ts` needs the run's Keycloak,
 * `x_synapse_test.ts` the run's Synapse, `x_cfssl_test.ts` the real CFSSL, `x_process_test.ts`
 * starts the service (or another program it talks to) as a process, `x_slow_test.ts` is
 * self-contained but too slow for the fast tier, and a plain `x_test.ts` is fast: in-process,
 * within the fast tier's 30 s budget (`deno task test:fast`, tools/fast_tests.ts). A file that
 * needs several is named after the heaviest, in the order of {@link TIERS}: each run that provides
 * a tier also provides every lighter one.
 *
 * {@link tierMismatches} checks each name against what the file imports (directly or through other
 * local modules) and whether it starts a program, so a new file cannot join the fast tier by a
 * wrong name (tests/tiers_test.ts). This module starts nothing itself, so that check can import it.
 */

/** Lightest first; a file needing several tiers is named after the last of them here. */
export const TIERS = ["fast", "slow", "process", "cfssl", "synapse", "keycloak"] as const;
export type Tier = typeof TIERS[number];

/** The tier a test file's name states. */
export function tierOfName(path: string): Tier {
  const word = /_([a-z]+)_test\.ts$/.exec(path)?.[1];
  return TIERS.find((tier) => tier !== "fast" && tier === word) ?? "fast";
}

/** Modules (a folder when ending in `/`) whose importers need a tier, and that tier. */
const MODULE_TIERS: ReadonlyArray<readonly [string, Tier]> = [
  ["tests/support/keycloak.ts", "keycloak"],
  ["tools/keycloak/", "keycloak"],
  ["tests/support/synapse.ts", "synapse"],
  ["tests/support/bootstrap.ts", "synapse"],
  ["tests/support/lifecycle.ts", "synapse"],
  ["tools/synapse/", "synapse"],
  ["tests/support/cfssl.ts", "cfssl"],
  ["tools/cfssl/", "cfssl"],
  ["tests/support/service.ts", "process"],
  ["tests/support/process.ts", "process"],
  ["tests/support/attack_process.ts", "process"],
];

/**
 * Fast files that run a short command-line tool to completion (no server, nothing the test run
 * provides), and what for; any other file that starts a program (itself or through a module it
 * imports) needs the process tier at least.
 */
export const ONE_SHOT_TOOLS: Readonly<Record<string, string>> = {
  "tests/server/crl_hash_test.ts": "OpenSSL makes the SHA-512 CA and SHA-256 CRL it reads",
  "tests/packaging/deploy_test.ts":
    "hadolint (pip-installed once into .local/) lints the Dockerfile",
};

/** Starting a program: `Deno.Command`, `Deno.run`, `node:child_process` (in code, not comments). */
const SPAWN = /\bDeno\s*\.\s*(?:Command|run)\b|["']node:child_process["']/;

/** A string literal (kept) or a comment (dropped), for reading code without its comments. */
const STRING_OR_COMMENT =
  /("(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'|`(?:\\.|[^`\\])*`)|\/\*[\s\S]*?\*\/|\/\/[^\n]*/g;

/** Whether the code of `source` (not its comments) starts a program. */
export function startsProgram(source: string): boolean {
  // Roughly: a regular expression literal with a quote or `//` in it may confuse the stripping.
  return SPAWN.test(
    source.replace(STRING_OR_COMMENT, (_, literal: string | undefined) => literal ?? ""),
  );
}

const ROOT = new URL("../", import.meta.url);

/** Relative imports: `from "./x"`, `import "./x"`, `import("./x")`. */
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*)["'](\.{1,2}\/[^"']+)["']/g;

/** Every test file under `tests/`, relative to the project root, sorted. */
export async function testFiles(root: URL = ROOT): Promise<string[]> {
  return (await _testFiles(new URL("tests/", root))).map((f) => f.href.slice(root.href.length))
    .sort();
}

/** The fast tier's test files (named without a tier), relative to the project root, sorted. */
export async function fastTestFiles(root: URL = ROOT): Promise<string[]> {
  return (await testFiles(root)).filter((path) => tierOfName(path) === "fast");
}

/** What a test file needs, read from its imports, and why (the module that decides it). */
export interface Need {
  tier: Tier;
  because: string;
}

/** The tier `test` (relative to `root`) needs by what it imports and starts, however indirectly. */
export async function neededTier(
  test: string,
  root: URL = ROOT,
  sources: Map<string, string> = new Map(),
): Promise<Need> {
  let need: Need = { tier: "fast", because: "imports nothing that needs more" };
  const raise = (tier: Tier, because: string) => {
    if (TIERS.indexOf(tier) > TIERS.indexOf(need.tier)) need = { tier, because };
  };
  const seen = new Set<string>();
  const queue = [new URL(test, root)];
  // Bounded: every module is expanded at most once.
  for (let module = queue.pop(); module !== undefined; module = queue.pop()) {
    if (seen.has(module.href)) continue;
    seen.add(module.href);
    const path = module.href.slice(root.href.length);
    for (const [prefix, tier] of MODULE_TIERS) {
      if (prefix.endsWith("/") ? path.startsWith(prefix) : path === prefix) {
        raise(tier, `imports ${path}`);
      }
    }
    if (!sources.has(module.href)) {
      sources.set(module.href, await Deno.readTextFile(module).catch(() => ""));
    }
    const source = sources.get(module.href)!;
    if (!(test in ONE_SHOT_TOOLS) && startsProgram(source)) {
      raise("process", path === test ? "starts a program" : `imports ${path}, which starts one`);
    }
    queue.push(...[...source.matchAll(IMPORT)].map((m) => new URL(m[1]!, module)));
  }
  return need;
}

/** A test file whose name states another tier than its imports need. */
export interface Mismatch {
  path: string;
  named: Tier;
  needs: Tier;
  because: string;
}

/**
 * Every test file whose name does not state the tier its imports need: a lighter one would run it
 * where what it needs is missing (or slow the fast tier down), a heavier one would hide a fast test
 * from the fast tier. `_slow` is the exception, as slowness cannot be read from imports: a file
 * that needs nothing may be named slow.
 */
export async function tierMismatches(root: URL = ROOT): Promise<Mismatch[]> {
  const sources = new Map<string, string>(); // module URL → its text, read once
  const out: Mismatch[] = [];
  for (const path of await testFiles(root)) {
    const named = tierOfName(path);
    const { tier: needs, because } = await neededTier(path, root, sources);
    if (named !== needs && !(named === "slow" && needs === "fast")) {
      out.push({ path, named, needs, because });
    }
  }
  return out;
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
