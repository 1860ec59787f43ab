/**
 * @module An externally managed product pair (a read-only mount, a Secret cert-manager renews):
 * read, watched and taken again when it changes; never enrolled, renewed, staged or written.
 */
import assert from "node:assert/strict";
import { createCertificateManager } from "../../src/certificate/manager.ts";
import type { RmProductApi } from "../../src/rm/product_api.ts";
import { createMemoryLogger } from "../../src/log/logger.ts";
import { createTestPki } from "../../tools/dev/pki.ts";
import { waitFor } from "../support/wait.ts";

const CN = "matrix.external.example.org";

/** An RM that must never be asked: every call is counted and refused. */
function untouchableRm(): RmProductApi & { calls: number } {
  const refuse = () => {
    rm.calls++;
    return Promise.resolve({
      ok: false as const,
      kind: "refused" as const,
      status: 0,
      message: "no",
    });
  };
  const rm = { calls: 0, signCsr: refuse, renewCsr: refuse, kcToken: refuse, peopleList: refuse };
  return rm;
}

/** Every file under `dir` with its modification time, to prove nothing was written. */
async function snapshot(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const info = await Deno.stat(`${dir}/${e.name}`);
    out.push(`${e.name}:${info.size}:${info.mtime?.getTime()}`);
  }
  return out.sort();
}

Deno.test("an external pair is used as it is, taken again when it changes, and never written", async () => {
  const pki = await createTestPki("matrixrmapi external");
  const dir = await Deno.makeTempDir({ prefix: "external-pair-" });
  const first = await pki.issueLeaf({ cn: CN, kind: "client" });
  await Deno.writeTextFile(`${dir}/tls.crt`, first.certPem + pki.intermediatePem);
  await Deno.writeTextFile(`${dir}/tls.key`, first.keyPem);
  await Deno.chmod(dir, 0o555);
  const rm = untouchableRm();
  const log = createMemoryLogger();
  const manager = createCertificateManager({
    paths: { certPath: `${dir}/tls.crt`, keyPath: `${dir}/tls.key` },
    cn: CN,
    csrJwt: () => Promise.resolve("would-be-used-if-enrolling"),
    rm,
    caPems: () => Promise.resolve([pki.chainPem]),
    log,
    managedBy: "external",
    watchMs: 50,
  });
  const stop = new AbortController();
  const running = manager.run(stop.signal);
  try {
    const ready = await waitFor("ready", () => manager.current());
    assert.equal(ready.certPem, first.certPem + pki.intermediatePem);
    assert.equal(manager.status().managedBy, "external");
    assert.equal(manager.status().phase, "ready");
    const seen: string[] = [];
    manager.onChange((next) => seen.push(next.facts.serial));
    const before = await snapshot(dir);

    // Whoever manages it replaces it (as cert-manager rewrites a Secret).
    const second = await pki.issueLeaf({ cn: CN, kind: "client" });
    await Deno.chmod(dir, 0o755);
    await Deno.writeTextFile(`${dir}/tls.crt`, second.certPem);
    await Deno.writeTextFile(`${dir}/tls.key`, second.keyPem);
    await Deno.chmod(dir, 0o555);
    const after = await snapshot(dir);
    await waitFor("the new pair", () => seen.length > 0 ? true : null);
    assert.equal(manager.current()?.certPem, second.certPem);
    assert.equal(seen.length, 1);

    assert.deepEqual(await snapshot(dir), after, "nothing staged, set aside or rewritten");
    assert.notDeepEqual(before, after);
    assert.equal(rm.calls, 0, "RM was never asked to sign or renew");
  } finally {
    stop.abort();
    await running;
    await Deno.chmod(dir, 0o755);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an incomplete external pair is reported once and never enrolled", async () => {
  const pki = await createTestPki("matrixrmapi external");
  const dir = await Deno.makeTempDir({ prefix: "external-pair-" });
  const rm = untouchableRm();
  const log = createMemoryLogger();
  const manager = createCertificateManager({
    paths: { certPath: `${dir}/tls.crt`, keyPath: `${dir}/tls.key` },
    cn: CN,
    csrJwt: () => Promise.resolve("would-be-used-if-enrolling"),
    rm,
    caPems: () => Promise.resolve([pki.chainPem]),
    log,
    managedBy: "external",
    watchMs: 20,
  });
  const stop = new AbortController();
  const running = manager.run(stop.signal);
  try {
    const s = await waitFor("blocked", () => {
      const st = manager.status();
      return st.phase === "blocked" && st.lastError !== null ? st : null;
    });
    assert.match(s.lastError!, /externally managed product pair .* is incomplete: no certificate/);
    // Several looks later: still one error line, still no RM call, still no file.
    const looked = Date.now();
    await waitFor("a few more looks", () => Date.now() - looked > 200 ? true : null);
    const errors = log.lines.filter((l) => l.includes("is incomplete"));
    assert.equal(errors.length, 1, errors.join("\n"));
    assert.equal(rm.calls, 0);
    assert.deepEqual(await snapshot(dir), []);
  } finally {
    stop.abort();
    await running;
    await Deno.remove(dir, { recursive: true });
  }
});
