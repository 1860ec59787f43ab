/**
 * @module The README and docs/ link to each other by relative paths: every such link (and the
 * file it names) must exist, so moving a page cannot leave a reader at a dead end.
 */
import assert from "node:assert/strict";

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
