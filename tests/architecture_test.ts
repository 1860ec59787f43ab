/**
 * The dependency rule of docs/design/architecture.md, checked on every import in `src/` and `main.ts`:
 * entry → service → domain → adapters → foundations, adapters never import each other, the HTTP
 * layer takes domain *types* only, and neither modules nor files import in a cycle.
 */
import assert from "node:assert/strict";

const LAYERS: Record<string, readonly string[]> = {
  entry: ["main", "cli"],
  service: ["service"],
  domain: [
    "bootstrap",
    "bot",
    "status",
    "lifecycle",
    "reconcile",
    "rooms",
    "certificate",
    "keycloak",
    "interop",
  ],
  adapters: ["synapse", "store", "server", "http", "rm"],
  foundations: ["matrix", "transport", "x509", "config", "log", "metrics", "util", "version"],
};
const RANK = ["foundations", "adapters", "domain", "service", "entry"];

interface Import {
  readonly from: string;
  readonly to: string;
  readonly typeOnly: boolean;
}

const root = new URL("../", import.meta.url).pathname;

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(`${root}${dir}`)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...await sourceFiles(path));
    else if (e.name.endsWith(".ts")) out.push(path);
  }
  return out;
}

function normalise(path: string): string {
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "..") parts.pop();
    else if (part !== "." && part !== "") parts.push(part);
  }
  return parts.join("/");
}

async function imports(): Promise<Import[]> {
  const files = [...await sourceFiles("src"), "main.ts"];
  const found: Import[] = [];
  const statement = /^(?:import|export)\s+(type\s+)?(?:[^;]*?\sfrom\s+)?"(\.[^"]+)"/gms;
  for (const file of files) {
    const text = await Deno.readTextFile(`${root}${file}`);
    for (const m of text.matchAll(statement)) {
      const dir = file.includes("/") ? file.slice(0, file.lastIndexOf("/")) : ".";
      found.push({ from: file, to: normalise(`${dir}/${m[2]}`), typeOnly: m[1] !== undefined });
    }
    for (const m of text.matchAll(/import\(\s*"(\.[^"]+)"\s*\)/g)) {
      const dir = file.slice(0, file.lastIndexOf("/"));
      found.push({ from: file, to: normalise(`${dir}/${m[1]}`), typeOnly: false });
    }
  }
  return found;
}

/** `src/http/routes/x.ts` → `http`; `src/version.ts` → `version`; `main.ts` → `main`. */
function moduleOf(file: string): string {
  if (file === "main.ts") return "main";
  const parts = file.split("/");
  return parts.length === 2 ? parts[1]!.replace(/\.ts$/, "") : parts[1]!;
}

function layerOf(module: string): string {
  const layer = Object.keys(LAYERS).find((l) => LAYERS[l]!.includes(module));
  if (layer === undefined) throw new Error(`module ${module} is in no layer: add it to the rule`);
  return layer;
}

function violation(i: Import): string | null {
  const [a, b] = [moduleOf(i.from), moduleOf(i.to)];
  if (a === b) return null;
  const [la, lb] = [layerOf(a), layerOf(b)];
  const [ra, rb] = [RANK.indexOf(la), RANK.indexOf(lb)];
  if (a === "http" && lb === "domain") {
    return i.typeOnly ? null : "the HTTP layer takes domain types only";
  }
  // The listener's adapters are the service's to wire, not the domain's to reach into: what both
  // need (X.509, DNs, serials) lives in the foundations.
  if (la === "domain" && (b === "server" || b === "http") && !i.typeOnly) {
    return `domain (${a}) must not reach into the listener's adapter (${b})`;
  }
  if (rb < ra) return null;
  if (ra === rb && (la === "domain" || la === "foundations" || la === "entry")) return null;
  return `${la} (${a}) must not import ${lb} (${b})`;
}

function cycle(edges: Map<string, Set<string>>): string[] | null {
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (node: string): string[] | null => {
    state.set(node, "open");
    stack.push(node);
    for (const next of edges.get(node) ?? []) {
      if (state.get(next) === "open") return [...stack.slice(stack.indexOf(next)), next];
      if (state.get(next) === undefined) {
        const found = visit(next);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(node, "done");
    return null;
  };
  for (const node of edges.keys()) {
    if (state.get(node) === undefined) {
      const found = visit(node);
      if (found) return found;
    }
  }
  return null;
}

function graph(pairs: Iterable<[string, string]>): Map<string, Set<string>> {
  const edges = new Map<string, Set<string>>();
  for (const [a, b] of pairs) {
    if (a === b) continue;
    if (!edges.has(a)) edges.set(a, new Set());
    edges.get(a)!.add(b);
  }
  return edges;
}

Deno.test("every import follows the dependency rule", async () => {
  const all = await imports();
  assert.ok(all.length > 200, `found only ${all.length} imports: the scanner is broken`);
  const bad = all.flatMap((i) => {
    const why = violation(i);
    return why === null ? [] : [`${i.from} → ${i.to}: ${why}`];
  });
  assert.deepEqual(bad, []);
});

Deno.test("no module and no file imports in a cycle", async () => {
  const all = await imports();
  // Type-only imports vanish at run time, but a cycle of them is still a tangle to read.
  assert.equal(cycle(graph(all.map((i) => [moduleOf(i.from), moduleOf(i.to)]))), null);
  assert.equal(cycle(graph(all.map((i) => [i.from, i.to]))), null);
});

Deno.test("the rule's checker sees a violation and a cycle when there is one", () => {
  assert.match(
    violation({ from: "src/server/mtls.ts", to: "src/http/env.ts", typeOnly: true }) ?? "",
    /adapters \(server\) must not import adapters \(http\)/,
  );
  assert.match(
    violation({ from: "src/http/x.ts", to: "src/rooms/spec.ts", typeOnly: false }) ?? "",
    /domain types only/,
  );
  assert.match(
    violation({ from: "src/synapse/x.ts", to: "src/service/s.ts", typeOnly: true }) ?? "",
    /must not import/,
  );
  assert.match(
    violation({ from: "src/certificate/v.ts", to: "src/server/peer.ts", typeOnly: false }) ?? "",
    /domain \(certificate\) must not reach into the listener's adapter \(server\)/,
  );
  assert.equal(
    violation({ from: "src/certificate/v.ts", to: "src/x509/serial.ts", typeOnly: false }),
    null,
  );
  assert.deepEqual(cycle(graph([["a", "b"], ["b", "c"], ["c", "a"]])), ["a", "b", "c", "a"]);
  assert.equal(cycle(graph([["a", "b"], ["b", "c"], ["a", "c"]])), null);
});
