import assert from "node:assert/strict";
import { createLogger, createMemoryLogger, redact } from "../../src/log/logger.ts";

Deno.test("redact() replaces credential-like fields at any depth", () => {
  const out = redact({
    access_token: "syt_abc",
    registration_secret: "s",
    nested: { headers: { Authorization: "Bearer x" }, list: [{ password: "p" }] },
    mac: "ff",
    user_id: "@a:b",
  });
  assert.deepEqual(out, {
    access_token: "[redacted]",
    registration_secret: "[redacted]",
    nested: { headers: { Authorization: "[redacted]" }, list: [{ password: "[redacted]" }] },
    mac: "[redacted]",
    user_id: "@a:b",
  });
});

Deno.test("ECS lines are JSON with timestamp, level, message and fields, dates as ISO strings", () => {
  const log = createMemoryLogger();
  const when = new Date("2026-01-02T03:04:05.000Z");
  log.child({ component: "test" }).warn("hello", { when, token: "t" });
  const line = JSON.parse(log.lines[0]!);
  assert.equal(line.message, "hello");
  assert.equal(line["log.level"], "warn");
  assert.equal(line.component, "test");
  assert.equal(line.when, "2026-01-02T03:04:05.000Z");
  assert.equal(line.token, "[redacted]");
  assert.match(line["@timestamp"], /^\d{4}-\d\d-\d\dT/);
});

Deno.test("lines below the configured level are dropped", () => {
  const lines: string[] = [];
  const log = createLogger({ level: "warn", sink: (l) => lines.push(l) });
  log.debug("a");
  log.info("b");
  log.warn("c");
  log.error("d");
  assert.deepEqual(lines.map((l) => JSON.parse(l).message), ["c", "d"]);
});

Deno.test("the local format is one readable line with key=value fields", () => {
  const lines: string[] = [];
  createLogger({ format: "local", sink: (l) => lines.push(l) }).info("ready", { port: 8012 });
  assert.match(lines[0]!, /^\d\d:\d\d:\d\d\.\d{3} INFO {2}ready port=8012$/);
});
