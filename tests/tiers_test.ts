/**
 * @module Test tiers by name (tools/test_tiers.ts): every file's name states the tier its imports
 * need, so a new test that needs Synapse, Keycloak, CFSSL or a process cannot join the fast tier
 * by its name alone, and the check itself catches such a file.
 */
import assert from "node:assert/strict";
import {
  fastTestFiles,
  ONE_SHOT_TOOLS,
  startsProgram,
  testFiles,
  tierMismatches,
  tierOfName,
} from "../tools/test_tiers.ts";

Deno.test("every test file's name states the tier its imports need", async () => {
  const wrong = await tierMismatches();
  assert.deepEqual(
    wrong.map((m) => `${m.path}: named ${m.named}, needs ${m.needs} (${m.because})`),
    [],
    "rename each file to end in _<tier>_test.ts (plain _test.ts for fast), see tools/test_tiers.ts",
  );
});

Deno.test("a name's tier is the word before _test.ts; anything else is fast", () => {
  const cases: Record<string, string> = {
    "tests/a/x_test.ts": "fast",
    "tests/a/x_keycloak_test.ts": "keycloak",
    "tests/a/x_synapse_test.ts": "synapse",
    "tests/a/x_cfssl_test.ts": "cfssl",
    "tests/a/x_process_test.ts": "process",
    "tests/a/x_slow_test.ts": "slow",
    "tests/a/synapse_x_test.ts": "fast",
    "tests/a/x_unit_test.ts": "fast",
    "tests/a/x_fast_test.ts": "fast",
  };
  for (const [path, tier] of Object.entries(cases)) assert.equal(tierOfName(path), tier, path);
});

Deno.test("the check catches a fast name on a file that needs Synapse or starts the service", async () => {
  // Spelt apart so that this file itself does not start a program by the check's reading.
  const [command, run] = ["Command", "run"].map((api) => `Deno.${api}`);
  const dir = await Deno.makeTempDir({ prefix: "tiers-" });
  try {
    const root = new URL(`file://${dir}/`);
    const files: Record<string, string> = {
      "tests/support/synapse.ts": "export const hs = 1;\n",
      "tests/support/keycloak.ts": "export const kc = 1;\n",
      "tests/support/spawn.ts":
        `export const run = () => new ${command}(Deno.execPath(), { args: ["run", "main.ts"] });\n`,
      // Fast by name, needs Synapse through a helper.
      "tests/support/helper.ts": 'export * from "./synapse.ts";\n',
      "tests/a/uses_helper_test.ts": 'import { hs } from "../support/helper.ts";\n',
      // Fast by name, starts the service itself or through a helper.
      "tests/a/main_test.ts":
        `await new ${command}(Deno.execPath(), { args: ["run", "main.ts"] }).output();\n`,
      "tests/a/indirect_test.ts": 'import { run } from "../support/spawn.ts";\n',
      // Synapse by name, needs Keycloak: lighter than needed.
      "tests/a/sso_synapse_test.ts": 'import "../support/keycloak.ts";\n',
      // Keycloak by name, needs nothing: it would hide a fast test.
      "tests/a/idle_keycloak_test.ts": "Deno.test('x', () => {});\n",
      // Right: fast and only mentioning a command in a comment; slow and needing nothing.
      "tests/a/quiet_test.ts": `// not ${command} here\n/* nor ${run} */\nconst s = "a";\n`,
      "tests/a/long_slow_test.ts": "Deno.test('x', () => {});\n",
      "tests/a/ok_synapse_test.ts": 'import "../support/synapse.ts";\n',
    };
    for (const [path, text] of Object.entries(files)) {
      await Deno.mkdir(new URL(".", new URL(path, root)), { recursive: true });
      await Deno.writeTextFile(new URL(path, root), text);
    }
    const wrong = await tierMismatches(root);
    assert.deepEqual(wrong.map((m) => `${m.path}: ${m.named} → ${m.needs} (${m.because})`), [
      "tests/a/idle_keycloak_test.ts: keycloak → fast (imports nothing that needs more)",
      "tests/a/indirect_test.ts: fast → process (imports tests/support/spawn.ts, which starts one)",
      "tests/a/main_test.ts: fast → process (starts a program)",
      "tests/a/sso_synapse_test.ts: synapse → keycloak (imports tests/support/keycloak.ts)",
      "tests/a/uses_helper_test.ts: fast → synapse (imports tests/support/synapse.ts)",
    ]);
    assert.deepEqual(await fastTestFiles(root), [
      "tests/a/indirect_test.ts",
      "tests/a/main_test.ts",
      "tests/a/quiet_test.ts",
      "tests/a/uses_helper_test.ts",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("each fast file allowed a one-shot tool exists, is named fast and starts one", async () => {
  const all = await testFiles();
  for (const path of Object.keys(ONE_SHOT_TOOLS)) {
    assert.ok(all.includes(path), `${path} no longer exists`);
    assert.equal(tierOfName(path), "fast", path);
    const source = await Deno.readTextFile(new URL(`../${path}`, import.meta.url));
    assert.ok(startsProgram(source), `${path} starts no program: drop it from ONE_SHOT_TOOLS`);
  }
});
