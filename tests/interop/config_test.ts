import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/config.ts";
import { TEST_MANIFEST, testConfig } from "../support/config.ts";

const parse = (env: Record<string, string>) =>
  parseConfig(
    { SYNAPSE_REGISTRATION_SECRET: "s", KRAFTWERK_MANIFEST: "/m.json", ...env },
    (path) => Promise.resolve(path === "/m.json" ? JSON.stringify(TEST_MANIFEST) : null),
  );

Deno.test("parseConfig() names the ingest bot battlelog-bot unless BATTLELOG_BOT_USERNAME says otherwise", async () => {
  assert.equal((await testConfig()).synapse.ingestBotUsername, "battlelog-bot");
  assert.equal(
    (await testConfig({ BATTLELOG_BOT_USERNAME: "ingest" })).synapse.ingestBotUsername,
    "ingest",
  );
});

Deno.test("parseConfig() refuses an ingest bot that is our own bot or not a localpart", async () => {
  for (
    const env of [
      { BATTLELOG_BOT_USERNAME: "matrixrmapi-bot" },
      { BATTLELOG_BOT_USERNAME: "matrixrmapi-bot-recovery-x" },
      { BATTLELOG_BOT_USERNAME: "Battle Log" },
    ]
  ) {
    const r = await parse(env);
    assert.equal(r.ok, false, JSON.stringify(env));
    if (!r.ok) assert.ok(r.problems.some((p) => p.startsWith("BATTLELOG_BOT_USERNAME: ")));
  }
});
