/** @module CrlGuard.health(): a CRL problem is a visible state, never a quiet fail-open. */
import assert from "node:assert/strict";
import { createMemoryLogger } from "../../src/log/logger.ts";
import { createCrlGuard } from "../../src/server/crl.ts";
import { createTestPki } from "../../tools/dev/pki.ts";

async function withGuard(
  write: (path: string, pki: Awaited<ReturnType<typeof createTestPki>>) => Promise<void>,
  check: (health: ReturnType<Awaited<ReturnType<typeof createCrlGuard>>["health"]>) => void,
): Promise<void> {
  const pki = await createTestPki();
  const dir = await Deno.makeTempDir({ prefix: "crl-health-" });
  const path = `${dir}/crl.pem`;
  try {
    await write(path, pki);
    const guard = await createCrlGuard({
      path,
      caPems: [pki.intermediatePem, pki.rootPem],
      log: createMemoryLogger(),
      pollMs: 60_000,
    });
    try {
      check(guard.health());
    } finally {
      await guard.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("CrlGuard.health() has no problems when both CRLs verify and are current", async () => {
  await withGuard(async (path, pki) => {
    await Deno.writeTextFile(
      path,
      (await pki.issueCrl({ issuer: "root" })) + (await pki.issueCrl({ issuer: "intermediate" })),
    );
  }, (h) => assert.deepEqual(h, { configured: true, inForce: 2, problems: [] }));
});

Deno.test("CrlGuard.health() names a CRL that does not verify, while the other stays in force", async () => {
  await withGuard(async (path, pki) => {
    await Deno.writeTextFile(
      path,
      (await pki.issueCrl({ issuer: "root" })) +
        (await pki.issueCrl({ issuer: "intermediate", signWithForeignKey: true })),
    );
  }, (h) => {
    assert.equal(h.inForce, 1);
    assert.equal(h.problems.length, 1);
    assert.match(h.problems[0]!, /does not verify against its CA's key/);
  });
});

Deno.test("CrlGuard.health() says no CRL is in force when the configured file is missing", async () => {
  await withGuard(() => Promise.resolve(), (h) => {
    assert.equal(h.inForce, 0);
    assert.ok(h.problems.some((p) => /no CRL from ".*crl\.pem" is in force/.test(p)));
    assert.ok(h.problems.some((p) => /cannot read the CRL file/.test(p)));
  });
});

Deno.test("CrlGuard.health() reports a CRL past its nextUpdate", async () => {
  await withGuard(async (path, pki) => {
    const day = 86_400_000;
    await Deno.writeTextFile(
      path,
      await pki.issueCrl({
        issuer: "intermediate",
        thisUpdate: new Date(Date.now() - 3 * day),
        nextUpdate: new Date(Date.now() - day),
      }),
    );
  }, (h) => {
    assert.equal(h.inForce, 1);
    assert.match(h.problems.join("\n"), /past its nextUpdate/);
  });
});

Deno.test("CrlGuard.health() without a configured file says revocation by CRL is off", async () => {
  const guard = await createCrlGuard({ path: null, caPems: [], log: createMemoryLogger() });
  assert.deepEqual(guard.health(), { configured: false, inForce: 0, problems: [] });
  await guard.close();
});
