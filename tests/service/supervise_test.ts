import assert from "node:assert/strict";
import { createSupervisor } from "../../src/service/supervise.ts";
import { createMemoryLogger } from "../../src/log/logger.ts";
import { waitFor } from "../support/wait.ts";

Deno.test("a task that fails is logged, counted and started again; stop() ends it", async () => {
  const log = createMemoryLogger();
  const failures: string[] = [];
  const supervisor = createSupervisor({
    log,
    onFailure: (task) => failures.push(task),
    restartMs: [10, 20],
  });
  let starts = 0;
  supervisor.task("flaky", async (signal) => {
    starts++;
    if (starts <= 2) throw new Error(`broken ${starts}`);
    await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve()));
  });
  await waitFor("the third start", () => starts >= 3);
  assert.deepEqual(failures, ["flaky", "flaky"]);
  const report = supervisor.reports()[0]!;
  assert.equal(report.state, "running");
  assert.equal(report.failures, 2);
  assert.equal(report.lastError, "broken 2");
  assert.ok(report.lastErrorAt instanceof Date);
  assert.equal(log.lines.filter((l) => l.includes("a background task failed")).length, 2);
  await supervisor.stop();
  assert.equal(supervisor.reports()[0]!.state, "stopped");
  assert.equal(starts, 3, "not started again after stop()");
});

Deno.test("a task that returns on its own is a failure too, not a silent end", async () => {
  const log = createMemoryLogger();
  const supervisor = createSupervisor({ log, restartMs: [10, 10] });
  let runs = 0;
  supervisor.task("quitter", () => {
    runs++;
    return Promise.resolve();
  });
  await waitFor("a restart", () => runs >= 2);
  assert.match(supervisor.reports()[0]!.lastError ?? "", /ended on its own/);
  await supervisor.stop();
});

Deno.test("a periodic task's failed run is logged and counted, and the schedule goes on", async () => {
  const log = createMemoryLogger();
  const failures: string[] = [];
  const supervisor = createSupervisor({ log, onFailure: (task) => failures.push(task) });
  let runs = 0;
  supervisor.every("reconcile", 10, () => {
    runs++;
    return runs === 1 ? Promise.reject(new Error("RM said no")) : Promise.resolve();
  });
  await waitFor("runs after the failed one", () => runs >= 3);
  assert.deepEqual(failures, ["reconcile"]);
  const report = supervisor.reports()[0]!;
  assert.equal(report.failures, 1);
  assert.equal(report.lastError, "RM said no");
  assert.ok(
    log.lines.some((l) => l.includes("a periodic task failed") && l.includes("RM said no")),
  );
  await supervisor.stop(); // resolves once the schedule has ended (the test sanitiser sees no timer)
  assert.equal(supervisor.reports()[0]!.state, "stopped");
});

Deno.test("a task name is supervised once", () => {
  const supervisor = createSupervisor({ log: createMemoryLogger() });
  supervisor.task("one", (signal) => new Promise((r) => signal.addEventListener("abort", r)));
  assert.throws(() => supervisor.task("one", () => Promise.resolve()), /already supervised/);
  return supervisor.stop();
});
