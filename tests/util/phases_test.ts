/** `createPhases()`: the one status shape of the phased background tasks. */
import assert from "node:assert/strict";
import { createPhases } from "../../src/util/phases.ts";

function clock() {
  let now = Date.parse("2026-12-07T08:00:00Z");
  return { now: () => new Date(now), advance: (ms: number) => void (now += ms) };
}

Deno.test("createPhases(): since changes only when the phase does", () => {
  const c = clock();
  const p = createPhases<"a" | "b", { extra: number }>("a", { extra: 1 }, c.now);
  const started = p.status().since;
  c.advance(1000);
  p.enter("a");
  assert.equal(p.status().since, started, "entering the same phase keeps since");
  p.enter("b");
  assert.equal(p.status().since.getTime(), started.getTime() + 1000);
  assert.equal(p.status().extra, 1);
});

Deno.test("createPhases(): failures count up with the last error; a success clears them", () => {
  const c = clock();
  const p = createPhases<"ok" | "error", Record<never, never>>("ok", {}, c.now);
  assert.equal(p.fail("error", "first"), 1);
  c.advance(500);
  assert.equal(p.fail("error", "second"), 2);
  assert.deepEqual(
    [p.status().phase, p.status().attempt, p.status().lastError],
    ["error", 2, "second"],
  );
  assert.equal(p.status().lastErrorAt?.getTime(), c.now().getTime());
  p.note("noted without counting");
  assert.equal(p.status().attempt, 2);
  assert.equal(p.status().lastError, "noted without counting");
  p.succeed("ok");
  assert.deepEqual(
    [p.status().phase, p.status().attempt, p.status().lastError, p.status().lastErrorAt],
    ["ok", 0, null, null],
  );
});

Deno.test("createPhases(): update changes the task's own fields and the attempt, nothing else", () => {
  const p = createPhases<"x", { clientId: string | null }>("x", { clientId: null });
  p.fail("x", "boom");
  p.update({ clientId: "c1", attempt: 5 });
  assert.deepEqual(
    [p.status().clientId, p.status().attempt, p.status().lastError],
    ["c1", 5, "boom"],
  );
});
