import assert from "node:assert/strict";
import { waitFor } from "../support/wait.ts";
import { synapseTest } from "../support/synapse.ts";
import { lifecycleFixture } from "../support/lifecycle.ts";
import { startFakeRm } from "../support/fake_rm.ts";
import { createTestPki } from "../../tools/dev/pki.ts";
import { createReconciler } from "../../src/reconcile/reconcile.ts";
import { createRmProductApi } from "../../src/rm/product_api.ts";
import { correctDrift } from "../../src/reconcile/drift.ts";
import { createMemoryLogger } from "../../src/log/logger.ts";
import { createRegistry, METRICS } from "../../src/metrics/registry.ts";
import { getUser } from "../../src/synapse/users.ts";
import { getState, putState } from "../../src/synapse/rooms.ts";
import type { TestHomeserver } from "../support/synapse.ts";

const PUBLIC = ["space", "general", "helpdesk", "offtopic"] as const;

async function setup(hs: TestHomeserver) {
  const f = await lifecycleFixture(hs);
  const pki = await createTestPki();
  const rm = await startFakeRm(pki);
  const product = await pki.issueLeaf({ cn: "matrix", kind: "client" });
  const log = createMemoryLogger();
  const metrics = createRegistry(METRICS);
  const reconciler = createReconciler({
    fetchPeople: () =>
      createRmProductApi({
        initBaseUri: null,
        mtlsBaseUri: rm.baseUri,
        caPems: () => Promise.resolve([pki.chainPem]),
      }).peopleList(product),
    wishes: f.store,
    lifecycle: f.lifecycle,
    serverName: hs.serverName,
    botUsername: f.ready.botUserId.slice(1, f.ready.botUserId.indexOf(":")),
    rmOwnCallsigns: ["anon_admin"],
    drift: (dryRun) =>
      correctDrift({
        synapse: hs.http.as(f.ready.token),
        rooms: f.ready.rooms,
        botUserId: f.ready.botUserId,
        deployment: f.deployment,
        serverName: hs.serverName,
        locks: f.locks,
        wishes: f.store,
        log,
      }, dryRun),
    log,
    metrics,
  });
  const person = (name: string, over: Record<string, unknown> = {}) => ({
    callsign: f.userId(name).slice(1, f.userId(name).indexOf(":")),
    roles: [],
    extra: null,
    revoked: null,
    ...over,
  });
  return {
    f,
    rm,
    reconciler,
    metrics,
    log,
    person,
    async [Symbol.asyncDispose]() {
      await rm[Symbol.asyncDispose]();
      await f[Symbol.asyncDispose]();
    },
  };
}

synapseTest(
  "a revocation that never came as a callback is applied by reconciliation",
  async (hs) => {
    await using s = await setup(hs);
    await s.f.login("rex");
    await s.f.apply("created", "rex");
    s.rm.answer = {
      json: { callsign_list: [s.person("rex", { revoked: "2026-11-25T10:00:00Z" })] },
    };
    const report = await s.reconciler.run();
    assert.equal(report.ok, true);
    assert.deepEqual(report.changes.map((c) => c.action), ["revoked"]);
    assert.deepEqual(
      s.rm.callers,
      ["matrix"],
      "the product's client certificate authenticated the call",
    );
    await s.f.settle();
    assert.deepEqual(await s.f.joined("rex"), []);
    assert.equal(
      (await getUser(hs.http.as(s.f.ready.token), s.f.userId("rex")))?.deactivated,
      true,
    );
  },
);

synapseTest(
  "an admin whose promotion was lost is promoted by reconciliation; a dry run changes nothing",
  async (hs) => {
    await using s = await setup(hs);
    await s.f.login("ada");
    await s.f.send("created", "ada");
    s.rm.answer = {
      json: { callsign_list: [s.person("ada", { roles: ["admin"] }), s.person("nobody-yet")] },
    };
    const dry = await s.reconciler.run({ dryRun: true });
    assert.deepEqual(dry.changes.map((c) => [c.callsign, c.action]), [
      [s.person("ada").callsign, "promoted"],
      [s.person("nobody-yet").callsign, "created"],
    ]);
    assert.equal(await s.f.level("ada", "general"), undefined, "a dry run promotes nobody");
    await s.reconciler.run();
    // nobody-yet never logs in, so it stays pending, as it should; ada's wish is what must land.
    await waitFor("ada's promotion applied", async () => {
      const ada = await s.f.store.get(s.f.userId("ada"));
      return ada !== null && ada.appliedGeneration === ada.generation;
    }, { timeoutMs: 30_000 });
    for (const k of PUBLIC) assert.equal(await s.f.level("ada", k), 100, k);
    assert.ok((await s.f.joined("ada")).includes(s.f.ready.rooms.admin));
    assert.match(
      await s.metrics.render(),
      /matrixrmapi_reconcile_corrections_total\{kind="promoted"\} 1/,
    );
  },
);

synapseTest("a failed, malformed or empty people list changes nothing", async (hs) => {
  await using s = await setup(hs);
  await s.f.login("ivy");
  await s.f.send("promoted", "ivy");
  await s.f.settle();
  const before = await s.f.store.get(s.f.userId("ivy"));
  for (
    const answer of [
      { status: 500, body: '{"detail":"boom"}' },
      { status: 200, body: '{"callsign_list": [{"callsign": "x"}]}' },
      { status: 200, body: "not json" },
      { json: { callsign_list: [] } },
      { json: { people: [] } },
    ]
  ) {
    s.rm.answer = answer;
    const report = await s.reconciler.run();
    assert.equal(report.ok, false, JSON.stringify(answer));
    assert.deepEqual(report.changes, []);
  }
  assert.deepEqual(await s.f.store.get(s.f.userId("ivy")), before);
  assert.equal((await s.f.store.listPending()).length, 0);
  for (const k of PUBLIC) assert.equal(await s.f.level("ivy", k), 100);
  assert.match(await s.metrics.render(), /matrixrmapi_reconcile_runs_total\{result="failed"\} 5/);
});

synapseTest(
  "room state and power levels changed by hand are restored by the drift pass",
  async (hs) => {
    await using s = await setup(hs);
    await s.f.login("kim");
    await s.f.send("promoted", "kim");
    await s.f.settle();
    const t = s.f.ready.token;
    const r = s.f.ready.rooms;
    await putState(hs.http.as(t), r.general, "m.room.join_rules", "", { join_rule: "public" });
    const pl = (await getState(hs.http.as(t), r.helpdesk, "m.room.power_levels"))!;
    const users = { ...(pl.users as Record<string, number>) };
    delete users[s.f.userId("kim")];
    await putState(hs.http.as(t), r.helpdesk, "m.room.power_levels", "", {
      ...pl,
      users,
      events: { ...(pl.events as Record<string, number>), "m.room.power_levels": 50 },
    });
    s.rm.answer = { json: { callsign_list: [s.person("kim", { roles: ["admin"] })] } };
    const report = await s.reconciler.run();
    assert.equal(report.driftCorrections, 2);
    const rules = await getState(hs.http.as(t), r.general, "m.room.join_rules");
    assert.equal(rules?.join_rule, "restricted");
    const restored = (await getState(hs.http.as(t), r.helpdesk, "m.room.power_levels"))!;
    assert.equal((restored.users as Record<string, number>)[s.f.userId("kim")], 100);
    assert.equal((restored.events as Record<string, number>)["m.room.power_levels"], 100);
    assert.match(
      s.log.lines.join("\n"),
      /drift: room state differs from the spec.*m\.room\.join_rules/,
    );
    assert.equal((await s.reconciler.run()).driftCorrections, 0, "a second pass finds nothing");
    // The counter operators alert on for hand edits counts the room repairs.
    assert.match(
      await s.metrics.render(),
      /^matrixrmapi_reconcile_corrections_total\{kind="room_state"\} 2$/m,
    );
  },
);

synapseTest("reconciliation never acts on the service's own bot, whatever RM lists", async (hs) => {
  await using s = await setup(hs);
  const bot = s.f.ready.botUserId.slice(1, s.f.ready.botUserId.indexOf(":"));
  s.rm.answer = {
    json: {
      callsign_list: [
        { callsign: bot, roles: [], extra: null, revoked: "2026-11-25T10:00:00Z" },
        { callsign: `${bot}-recovery-0badc0de`, roles: ["admin"], extra: null, revoked: null },
      ],
    },
  };
  const report = await s.reconciler.run();
  assert.equal(report.ok, true);
  assert.deepEqual(report.changes, []);
  assert.equal(
    (await getUser(hs.http.as(s.f.ready.token), s.f.ready.botUserId))?.deactivated,
    false,
  );
  assert.ok(s.log.lines.some((l) => l.includes("maps to the service's own account")));
});

synapseTest("the drift pass removes power-level entries of revoked people", async (hs) => {
  await using s = await setup(hs);
  await s.f.login("rob");
  await s.f.send("promoted", "rob");
  await s.f.send("revoked", "rob");
  await s.f.settle();
  // Someone puts the revoked person's level back by hand.
  const general = s.f.ready.rooms.general;
  const pl = await getState(hs.http.as(s.f.ready.token), general, "m.room.power_levels");
  await putState(hs.http.as(s.f.ready.token), general, "m.room.power_levels", "", {
    ...pl,
    users: { ...(pl?.users as Record<string, number>), [s.f.userId("rob")]: 100 },
  });
  assert.equal(await s.f.level("rob", "general"), 100);
  s.rm.answer = { json: { callsign_list: [s.person("someone-else")] } };
  const report = await s.reconciler.run();
  assert.ok(report.driftCorrections >= 1);
  assert.equal(await s.f.level("rob", "general"), undefined);
});

synapseTest(
  "RM's own anon_admin in the people list is not a person: nothing is planned or kept pending",
  async (hs) => {
    await using s = await setup(hs);
    s.rm.answer = {
      json: {
        callsign_list: [{ callsign: "anon_admin", roles: ["admin"], extra: {}, revoked: null }],
      },
    };
    const report = await s.reconciler.run();
    assert.equal(report.ok, true);
    assert.deepEqual(report.changes, []);
    assert.equal(await s.f.store.get(s.f.userId("anon_admin")), null);
  },
);
