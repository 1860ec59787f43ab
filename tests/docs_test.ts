/**
 * @module The README and docs/ stay true: every relative link names a file that exists (moving a
 * page cannot leave a reader at a dead end), and the README's configuration table names exactly
 * the variables the service reads and its endpoint table every route the app answers.
 */
import assert from "node:assert/strict";
import { ENV_NAMES } from "../src/config/config.ts";
import { plain, testApp } from "./support/app.ts";

const ROOT = new URL("../", import.meta.url);
/** `[text](target)` and `![alt](target)`; the target up to a space, `#` or `)`. */
const LINK = /\]\(([^)\s#]+)(?:#[^)]*)?\)/g;

async function _markdownFiles(): Promise<URL[]> {
  const files = [new URL("README.md", ROOT)];
  const walk = async (dir: URL): Promise<void> => {
    for await (const entry of Deno.readDir(dir)) {
      const url = new URL(entry.isDirectory ? `${entry.name}/` : entry.name, dir);
      if (entry.isDirectory) await walk(url);
      else if (entry.name.endsWith(".md")) files.push(url);
    }
  };
  await walk(new URL("docs/", ROOT));
  return files;
}

async function _exists(url: URL): Promise<boolean> {
  try {
    await Deno.stat(url);
    return true;
  } catch {
    return false;
  }
}

Deno.test("every relative link in the README and docs/ names a file that exists", async () => {
  const dead: string[] = [];
  let links = 0;
  for (const file of await _markdownFiles()) {
    for (const [, target] of (await Deno.readTextFile(file)).matchAll(LINK)) {
      if (/^[a-z]+:/i.test(target!)) continue; // https:, mailto:
      links++;
      if (!(await _exists(new URL(target!, file)))) {
        dead.push(`${file.pathname.slice(ROOT.pathname.length)} → ${target}`);
      }
    }
  }
  assert.ok(links > 20, `the docs link to each other (${links} links found)`);
  assert.deepEqual(dead, [], "dead links");
});

Deno.test("the README stays a map: the details live in docs/", async () => {
  const readme = await Deno.readTextFile(new URL("README.md", ROOT));
  for (
    const heading of [
      "## Two commands",
      "## Endpoints",
      "## Configuration",
      "## Delivery guarantees",
      "## What CI proves",
    ]
  ) {
    assert.ok(readme.includes(`\n${heading}\n`), `README keeps ${heading}`);
  }
  for (
    const page of ["docs/operations/deploying.md", "docs/design/lifecycle.md", "docs/testing.md"]
  ) {
    assert.ok(readme.includes(`](${page})`), `README links ${page}`);
  }
});

Deno.test("the README's configuration table names every variable the service reads, and no other", async () => {
  const readme = await Deno.readTextFile(new URL("README.md", ROOT));
  const section = readme.slice(readme.indexOf("\n## Configuration\n"));
  const table = section.slice(0, section.indexOf("\n\n", section.indexOf("| Variable")));
  const named = new Set<string>();
  for (const row of table.split("\n").slice(2)) {
    // The first cell: `NAME`, or `A` / `B`, or `A` / `_SUFFIX` (a suffix of A's name).
    const cell = row.split("|")[1] ?? "";
    const names = [...cell.matchAll(/`([A-Z0-9_]+)`/g)].map((m) => m[1]!);
    for (const name of names) {
      named.add(name.startsWith("_") ? `${names[0]}${name}` : name);
    }
  }
  assert.deepEqual(
    [...ENV_NAMES].filter((n) => !named.has(n)).sort(),
    [],
    "missing from the table",
  );
  assert.deepEqual([...named].filter((n) => !ENV_NAMES.includes(n)).sort(), [], "not read");
});

Deno.test("the README's endpoint table lists every route the service answers, with its methods", async () => {
  const readme = await Deno.readTextFile(new URL("README.md", ROOT));
  const section = readme.slice(readme.indexOf("\n## Endpoints\n"));
  const rows = section.slice(0, section.indexOf("\n\n", section.indexOf("| Method"))).split("\n")
    .slice(2).map((row) => row.split("|")[1] ?? "");
  const { app } = await testApp();
  const doc = await (await app.request("/api/openapi.json", {}, plain())).json();
  const missing: string[] = [];
  for (const [path, item] of Object.entries(doc.paths as Record<string, object>)) {
    if (path.startsWith("//")) continue; // RM's double-slash URL: the same route, said in its row
    const row = rows.find((cell) => cell.includes(`\`${path}\``));
    for (const method of Object.keys(item).map((m) => m.toUpperCase())) {
      if (row === undefined || !row.split(/[\s/`]+/).includes(method)) {
        missing.push(`${method} ${path}`);
      }
    }
  }
  assert.ok(rows.length > 20, `the table has rows (${rows.length})`);
  assert.deepEqual(missing, [], "routes missing from the README's endpoint table");
});
