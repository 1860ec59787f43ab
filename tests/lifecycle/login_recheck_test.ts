import assert from "node:assert/strict";
import {
  LOGIN_RECHECK_MAX_MS,
  LOGIN_RECHECK_MS,
  loginRecheckMs,
} from "../../src/lifecycle/login_watch.ts";

Deno.test("loginRecheckMs(): the safety net backs off from 10 minutes to once a day", () => {
  assert.equal(loginRecheckMs(0), 10 * 60_000);
  assert.equal(loginRecheckMs(1), 20 * 60_000);
  assert.equal(loginRecheckMs(3), 80 * 60_000);
  assert.equal(loginRecheckMs(8), LOGIN_RECHECK_MAX_MS, "capped");
  assert.equal(loginRecheckMs(10_000), 24 * 3_600_000);
  assert.equal(loginRecheckMs(-1), LOGIN_RECHECK_MS, "a bad count is the first look");
  // 1,000 people waiting for days: about 1,000 looks a day in all, under one a minute.
  assert.ok(1000 * 60_000 / LOGIN_RECHECK_MAX_MS < 1);
});
