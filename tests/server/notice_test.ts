/** Rate-limited log lines: a flood of refusals cannot flood the log. */
import assert from "node:assert/strict";
import { createMemoryLogger } from "../../src/log/logger.ts";
import { createNotice } from "../../src/server/notice.ts";

Deno.test("createNotice() writes at most `burst` lines per message and window, then says how many it left out", () => {
  const log = createMemoryLogger();
  let now = 0;
  const notice = createNotice(log, { burst: 3, windowMs: 1000, now: () => now });
  for (let i = 0; i < 1000; i++) notice("warn", "refused a connection", { i });
  notice("info", "another message", {});
  const lines = () => log.lines.map((l) => JSON.parse(l));
  assert.equal(lines().filter((l) => l.message === "refused a connection").length, 3);
  assert.equal(lines().filter((l) => l.message === "another message").length, 1);
  now = 1000;
  notice("warn", "refused a connection", { i: 1000 });
  const last = lines().at(-1);
  assert.equal(last.suppressed, 997);
  assert.equal(last["log.level"], "warn");
});
