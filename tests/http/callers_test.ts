/**
 * Every route declares its caller once (`src/http/callers.ts`); these tests read the served
 * OpenAPI document and call each route as each kind of caller, so a route cannot be added
 * without a caller, and a declaration cannot say one thing while the app does another.
 */
import assert from "node:assert/strict";
import { type Caller, CALLER_KEY, MUTUAL_TLS } from "../../src/http/callers.ts";
import { mtls, PERSON, plain, RM, testApp } from "../support/app.ts";
import type { AppBindings } from "../../src/transport/bindings.ts";

const CALLERS: readonly Caller[] = ["rm", "rm-direct", "certificate", "operator", "public"];

interface Operation {
  readonly method: string;
  readonly path: string;
  readonly caller: Caller;
  readonly security: unknown;
}

async function operations(): Promise<Operation[]> {
  const { app } = await testApp();
  const doc = await (await app.request("/api/openapi.json", {}, plain())).json();
  const out: Operation[] = [];
  for (
    const [path, item] of Object.entries(
      doc.paths as Record<string, Record<string, Record<string, unknown>>>,
    )
  ) {
    for (const [method, op] of Object.entries(item)) {
      out.push({
        method: method.toUpperCase(),
        path,
        caller: op[CALLER_KEY] as Caller,
        security: op.security,
      });
    }
  }
  return out;
}

/** A concrete URL for a documented path (parameters filled with a plausible value). */
const urlOf = (path: string) => path.replace("{lang}", "en").replace(/\{[^}]+\}/g, "x");

Deno.test("every documented route declares one of the callers, and its security follows", async () => {
  const ops = await operations();
  assert.ok(ops.length > 20, `the document lists the routes (${ops.length})`);
  for (const op of ops) {
    assert.ok(CALLERS.includes(op.caller), `${op.method} ${op.path}: caller ${op.caller}`);
    const certificate = op.caller === "rm" || op.caller === "rm-direct" ||
      op.caller === "certificate";
    assert.deepEqual(
      op.security,
      certificate ? [{ [MUTUAL_TLS]: [] }] : [],
      `${op.method} ${op.path}: security for ${op.caller}`,
    );
  }
});

Deno.test("each route admits exactly its declared callers, before reading a body", async () => {
  const { app } = await testApp();
  const proxied: AppBindings = mtls(RM);
  const as: Record<string, [AppBindings, Record<string, string>]> = {
    "nobody": [plain(), {}],
    "operator": [plain("127.0.0.1"), {}],
    "person": [mtls(PERSON), {}],
    "rm": [mtls(RM), {}],
    "rm-proxy": [proxied, { "x-rasenmaeher-proxy": "1" }],
  };
  const admitted: Record<Caller, string[]> = {
    "public": ["nobody", "operator", "person", "rm", "rm-proxy"],
    "operator": ["operator"],
    "certificate": ["person", "rm", "rm-proxy"],
    "rm": ["rm", "rm-proxy"],
    "rm-direct": ["rm"],
  };
  for (const op of await operations()) {
    for (const [who, [env, headers]] of Object.entries(as)) {
      // Not JSON and too short to be anything: whoever gets past authorisation learns 415/422.
      const res = await app.request(urlOf(op.path), {
        method: op.method,
        headers: { ...headers, "content-type": "text/plain" },
        ...(op.method === "GET" || op.method === "DELETE" ? {} : { body: "x" }),
      }, env);
      await res.body?.cancel();
      const refused = res.status === 403;
      assert.equal(
        refused,
        !admitted[op.caller].includes(who),
        `${op.method} ${op.path} (${op.caller}) as ${who}: HTTP ${res.status}`,
      );
    }
  }
});
