/**
 * @module The README and docs/ stay true: every relative link names a file that exists and every
 * `#anchor` a heading in it (moving a page or renaming a section cannot leave a reader at a dead
 * end); the README stays a short map; the README's configuration tables and the full table in
 * docs/operations/configuration.md name exactly the variables the service reads, with the same
 * defaults; and the README's endpoint table lists every route the app answers.
 */
import assert from "node:assert/strict";
import { ENV_NAMES } from "../src/config/config.ts";
import { plain, testApp } from "./support/app.ts";

const ROOT = new URL("../", import.meta.url);
/** `[text](target)` and `![alt](target)`: the target up to a space, `#` or `)`, then the anchor. */
const LINK = /\]\(([^)\s#]*)(?:#([^)\s]*))?\)/g;
/** The README is a map; the details live in docs/. */
const README_MAX_BYTES = 12_000;
const README_MAX_LINE = 300;

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

/** A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces → `-`. */
function _slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-");
}

function _anchors(markdown: string): Set<string> {
  const headings = markdown.split("\n").filter((line) => /^#{1,6} /.test(line));
  return new Set(headings.map((line) => _slug(line.replace(/^#+ /, ""))));
}

Deno.test("every relative link in the README and docs/ names a file that exists, and its anchor a heading", async () => {
  const dead: string[] = [];
  let links = 0;
  for (const file of await _markdownFiles()) {
    const from = file.pathname.slice(ROOT.pathname.length);
    for (const [, target = "", anchor] of (await Deno.readTextFile(file)).matchAll(LINK)) {
      if (/^[a-z]+:/i.test(target)) continue; // https:, mailto:
      if (target === "" && anchor === undefined) continue;
      links++;
      const url = target === "" ? file : new URL(target, file);
      if (!(await _exists(url))) {
        dead.push(`${from} → ${target}`);
      } else if (anchor !== undefined && url.pathname.endsWith(".md")) {
        if (!_anchors(await Deno.readTextFile(url)).has(anchor)) {
          dead.push(`${from} → ${target}#${anchor} (no such heading)`);
        }
      }
    }
  }
  assert.ok(links > 20, `the docs link to each other (${links} links found)`);
  assert.deepEqual(dead, [], "dead links");
});

Deno.test("the README stays a map: short, with the sections it must keep", async () => {
  const bytes = await Deno.readFile(new URL("README.md", ROOT));
  assert.ok(bytes.length <= README_MAX_BYTES, `README.md is ${bytes.length} bytes`);
  const readme = new TextDecoder().decode(bytes);
  const long = readme.split("\n").filter((line) => [...line].length > README_MAX_LINE);
  assert.deepEqual(long, [], `README lines over ${README_MAX_LINE} characters`);
  for (
    const heading of [
      "## Two commands",
      "## Map",
      "## Glossary",
      "## Endpoints",
      "## Configuration",
      "## Delivery guarantees",
      "## What CI proves",
    ]
  ) {
    assert.ok(readme.includes(`\n${heading}\n`), `README keeps ${heading}`);
  }
  for (
    const page of [
      "docs/operations/configuration.md",
      "docs/operations/deploying.md",
      "docs/design/lifecycle.md",
      "docs/testing.md",
    ]
  ) {
    assert.ok(readme.includes(`](${page})`), `README links ${page}`);
  }
});

/**
 * The rows of every table headed `| Variable |` in `markdown`: each variable → its default (the
 * second cell). A first cell may name several, `A` / `B` or `A` / `_SUFFIX` (a suffix of A's
 * name), with one default each (`x` / `y`) or one for all. A variable listed twice is an error.
 */
function _configTables(markdown: string): Map<string, string> {
  const defaults = new Map<string, string>();
  let inTable = false;
  for (const line of markdown.split("\n")) {
    if (!line.startsWith("|")) {
      inTable = false;
    } else if (/^\|\s*Variable\s*\|/.test(line)) {
      inTable = true;
    } else if (inTable && !/^\|[\s:|-]+$/.test(line)) {
      const [, first = "", second = ""] = line.split("|");
      const given = [...first.matchAll(/`([A-Z0-9_]+)`/g)].map((m) => m[1]!);
      const names = given.map((name) => name.startsWith("_") ? `${given[0]}${name}` : name);
      const fallback = second.trim();
      const each = fallback.split(" / ");
      names.forEach((name, i) => {
        assert.ok(!defaults.has(name), `${name} is listed twice`);
        defaults.set(name, each.length === names.length ? each[i]! : fallback);
      });
    }
  }
  return defaults;
}

function _assertExactlyEnvNames(named: Iterable<string>, where: string): void {
  const names = [...named];
  assert.deepEqual(ENV_NAMES.filter((n) => !names.includes(n)).sort(), [], `missing (${where})`);
  assert.deepEqual(names.filter((n) => !ENV_NAMES.includes(n)).sort(), [], `not read (${where})`);
}

async function _readmeConfig(): Promise<Map<string, string>> {
  const readme = await Deno.readTextFile(new URL("README.md", ROOT));
  const section = readme.slice(readme.indexOf("\n## Configuration\n") + 1);
  const end = section.indexOf("\n## ");
  return _configTables(end === -1 ? section : section.slice(0, end));
}

async function _fullConfig(): Promise<Map<string, string>> {
  return _configTables(
    await Deno.readTextFile(new URL("docs/operations/configuration.md", ROOT)),
  );
}

Deno.test("the README's configuration tables name every variable the service reads, and no other", async () => {
  _assertExactlyEnvNames((await _readmeConfig()).keys(), "README.md, ## Configuration");
});

Deno.test("docs/operations/configuration.md names every variable the service reads, and no other", async () => {
  _assertExactlyEnvNames((await _fullConfig()).keys(), "docs/operations/configuration.md");
});

Deno.test("every default in the README is the one in docs/operations/configuration.md", async () => {
  const full = await _fullConfig();
  const differ = [...await _readmeConfig()]
    .filter(([name, fallback]) => full.get(name) !== fallback)
    .map(([name, fallback]) => `${name}: README ${fallback}, full table ${full.get(name)}`);
  assert.deepEqual(differ, [], "defaults that differ");
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
