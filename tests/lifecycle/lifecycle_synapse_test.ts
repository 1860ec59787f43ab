import assert from "node:assert/strict";
import { synapseTest, uniqueName } from "../support/synapse.ts";
import { randomPassword, registerWithSharedSecret } from "../../src/synapse/registration.ts";
import { createSynapseHttp, lifecycleFixture } from "../support/lifecycle.ts";
import { startFaultProxy } from "../support/proxy.ts";
import { waitFor } from "../support/wait.ts";
import { getUser } from "../../src/synapse/users.ts";
import type { SynapseHttp } from "../../src/synapse/http.ts";

const PUBLIC = ["space", "general", "helpdesk", "offtopic"] as const;

synapseTest("one person's whole lifecycle: created, promoted, demoted, revoked", async (hs) => {
  await using f = await lifecycleFixture(hs);
  const r = f.ready.rooms;
  await f.login("alice");

  await f.apply("created", "alice");
  assert.deepEqual((await f.joined("alice")).sort(), PUBLIC.map((k) => r[k]).sort());

  await f.apply("promoted", "alice");
  for (const k of PUBLIC) assert.equal(await f.level("alice", k), 100, k);
  assert.ok((await f.joined("alice")).includes(r.admin));

  await f.apply("demoted", "alice");
  for (const k of PUBLIC) assert.equal(await f.level("alice", k), undefined, k);
  assert.ok(!(await f.joined("alice")).includes(r.admin));
  assert.equal((await f.joined("alice")).length, 4);

  await f.apply("revoked", "alice");
  assert.deepEqual(await f.joined("alice"), []);
  assert.equal((await getUser(hs.http.as(f.ready.token), f.userId("alice")))?.deactivated, true);
});

synapseTest(
  "created before the first Matrix login is accepted, then joined when the person appears",
  async (hs) => {
    await using f = await lifecycleFixture(hs);
    const outcome = await f.send("created", "bob");
    assert.equal(outcome.kind, "accepted", "answered at once, before any attempt");
    await waitFor("the wish waiting for the first login", async () => {
      const status = await f.worker.pending();
      return status.count === 1 && /not logged in/.test(status.users[0]?.waitingFor ?? "");
    });
    // The next callback about bob (a duplicate, reconciliation) says what the wish waits for.
    const again = await f.send("created", "bob");
    assert.match(again.kind === "accepted" ? again.detail : "", /not logged in to Matrix yet/);
    await f.login("bob");
    await f.settle();
    assert.equal((await f.joined("bob")).length, 4);
  },
);

synapseTest(
  "promoted before the first login joins the admin room when the person appears",
  async (hs) => {
    await using f = await lifecycleFixture(hs);
    assert.equal((await f.send("promoted", "carol")).kind, "accepted");
    await f.login("carol");
    await f.settle();
    assert.ok((await f.joined("carol")).includes(f.ready.rooms.admin));
    for (const k of PUBLIC) assert.equal(await f.level("carol", k), 100, k);
  },
);

synapseTest(
  "50 concurrent promotions all land, coalesced, without disturbing other levels",
  async (hs) => {
    await using f = await lifecycleFixture(hs);
    const names = Array.from({ length: 50 }, (_, i) => `admin${i}`);
    await Promise.all(names.map((n) => f.login(n)));
    const outcomes = await Promise.all(names.map((n) => f.send("promoted", n)));
    assert.ok(outcomes.every((o) => o.kind === "accepted"));
    await f.settle(60_000);
    for (const k of [...PUBLIC]) {
      const pl = await (await import("../../src/synapse/rooms.ts")).getState(
        hs.http.as(f.ready.token),
        f.ready.rooms[k],
        "m.room.power_levels",
      );
      const users = pl?.users as Record<string, number>;
      for (const n of names) assert.equal(users[f.userId(n)], 100, `${n} in ${k}`);
      assert.equal(users[f.ready.botUserId], 200, `bot in ${k}`);
      assert.equal(Object.keys(users).length, 51, `no stray users in ${k}`);
      assert.equal((pl?.events as Record<string, number>)["m.room.power_levels"], 100);
    }
    const writes = f.calls.filter((c) => c.startsWith("PUT") && c.includes("power_levels"));
    // Naively 200 writes (50 people × 4 rooms); coalesced, about one per room.
    assert.ok(writes.length >= 4 && writes.length <= 20, `${writes.length} power-level writes`);
  },
);

synapseTest("duplicate deliveries are harmless and end in the same state", async (hs) => {
  await using f = await lifecycleFixture(hs);
  await f.login("dave");
  const outcomes = await Promise.all([1, 2, 3].map(() => f.send("created", "dave")));
  assert.ok(
    outcomes.every((o) => o.kind === "accepted"),
    JSON.stringify(outcomes),
  );
  await f.send("promoted", "dave");
  await f.send("promoted", "dave");
  await f.settle();
  assert.equal((await f.joined("dave")).length, 5);
  for (const k of PUBLIC) assert.equal(await f.level("dave", k), 100);
});

synapseTest("created after revoked does not resurrect the deactivated account", async (hs) => {
  await using f = await lifecycleFixture(hs);
  await f.login("eve");
  await f.send("created", "eve");
  await f.apply("revoked", "eve");
  const again = await f.send("created", "eve");
  assert.equal(again.kind, "conflict");
  assert.equal((await f.send("promoted", "eve")).kind, "conflict");
  await f.apply("revoked", "eve"); // a repeated revocation is fine
  await f.settle();
  assert.deepEqual(await f.joined("eve"), []);
});

synapseTest(
  "promote, demote, promote acknowledged while Synapse is down: admin once it returns",
  async (hs) => {
    const proxy = startFaultProxy(hs.url);
    try {
      await using f = await lifecycleFixture(hs, {
        http: createSynapseHttp({ baseUrl: proxy.url, timeoutMs: 2000 }),
      });
      await f.login("frank");
      proxy.down();
      for (const action of ["promoted", "demoted", "promoted"] as const) {
        const outcome = await f.send(action, "frank");
        assert.equal(outcome.kind, "accepted", `${action}: ${JSON.stringify(outcome)}`);
      }
      const status = await f.worker.pending();
      assert.equal(status.count, 1);
      await waitFor(
        "a failed attempt",
        async () => (await f.worker.pending()).users[0]?.lastError ?? null,
      );
      assert.match((await f.worker.pending()).users[0]?.lastError ?? "", /M_CONNECTION_FAILED/);
      proxy.up();
      await f.settle(60_000);
      for (const k of PUBLIC) assert.equal(await f.level("frank", k), 100, k);
      assert.ok((await f.joined("frank")).includes(f.ready.rooms.admin));
    } finally {
      await proxy.close();
    }
  },
);

synapseTest(
  "a revocation while Synapse is down is applied when it returns, and the person leaves every room",
  async (hs) => {
    const proxy = startFaultProxy(hs.url);
    try {
      await using f = await lifecycleFixture(hs, {
        http: createSynapseHttp({ baseUrl: proxy.url, timeoutMs: 2000 }),
      });
      await f.login("gina");
      await f.apply("promoted", "gina");
      assert.equal((await f.joined("gina")).length, 5);
      proxy.down();
      assert.equal((await f.send("revoked", "gina")).kind, "accepted");
      assert.equal((await f.joined("gina")).length, 5, "nothing happened while Synapse was away");
      proxy.up();
      await f.settle(60_000);
      assert.deepEqual(await f.joined("gina"), []);
      assert.equal((await getUser(hs.http.as(f.ready.token), f.userId("gina")))?.deactivated, true);
    } finally {
      await proxy.close();
    }
  },
);

synapseTest(
  "a server admin's account is never kicked, lowered or deactivated by a wish",
  async (hs) => {
    await using f = await lifecycleFixture(hs);
    const operator = await registerWithSharedSecret(hs.http, hs.secret, {
      username: uniqueName("operator"),
      password: randomPassword(),
      admin: true,
    });
    assert.equal(operator.kind, "registered");
    const userId = operator.kind === "registered" ? operator.userId : "";
    for (const action of ["created", "revoked"] as const) {
      await f.lifecycle.submit({
        action,
        userId,
        callsign: "x",
        uuid: "u",
        receivedAt: new Date(),
      });
    }
    await f.settle();
    assert.equal((await getUser(hs.http.as(f.ready.token), userId))?.deactivated, false);
    assert.ok(f.log.lines.some((l) => l.includes("is a Synapse server admin")));
  },
);

synapseTest(
  "promotions for people who never logged in leave no power-level entries",
  async (hs) => {
    await using f = await lifecycleFixture(hs);
    await f.login("present");
    const ghosts = Array.from({ length: 8 }, (_, i) => `ghost${i}`);
    // Sent together, so one round plans the whole burst's levels at once.
    await Promise.all(
      ["present", ...ghosts].map((name) =>
        f.lifecycle.submit(
          {
            action: "promoted",
            userId: f.userId(name),
            callsign: name,
            uuid: "u",
            receivedAt: new Date(),
          },
        )
      ),
    );
    await waitFor(
      "the present admin's level",
      async () => await f.level("present", "general") === 100,
    );
    for (const room of PUBLIC) {
      for (const ghost of ghosts) {
        assert.equal(await f.level(ghost, room), undefined, `${ghost} ${room}`);
      }
    }
  },
);

synapseTest("a revoked admin's power-level entries are removed", async (hs) => {
  await using f = await lifecycleFixture(hs);
  await f.login("rita");
  await f.send("promoted", "rita");
  await f.settle();
  assert.equal(await f.level("rita", "general"), 100);
  await f.send("revoked", "rita");
  await f.settle();
  for (const room of PUBLIC) assert.equal(await f.level("rita", room), undefined, room);
});

synapseTest(
  "people waiting for a first login cost one look per interval, and are joined when they appear",
  async (hs) => {
    const calls: string[] = [];
    const counting: SynapseHttp = {
      baseUrl: hs.http.baseUrl,
      call: (token, options) => {
        calls.push(`${options.method} ${options.path.replace(/\/users\/[^/]+$/, "/users/{id}")}`);
        return hs.http.call(token, options);
      },
      as: (token) => ({ call: (options) => counting.call(token, options) }),
    };
    await using f = await lifecycleFixture(hs, { http: counting });
    const waiting = Array.from({ length: 30 }, (_, i) => `late${i}`);
    for (const name of waiting) {
      await f.lifecycle.submit(
        {
          action: "created",
          userId: f.userId(name),
          callsign: name,
          uuid: "u",
          receivedAt: new Date(),
        },
      );
    }
    const lists = () => calls.filter((c) => c === "GET /_synapse/admin/v2/users").length;
    const lookups = () => calls.filter((c) => c === "GET /_synapse/admin/v2/users/{id}").length;
    await waitFor("every waiting person looked at once", () => lookups() >= waiting.length);
    const afterFirst = lookups();
    await waitFor("three more looks for new accounts", () => lists() >= 4, { timeoutMs: 30_000 });
    // Per-person polling would have looked up all 30 again at every look (90 more by now); a
    // transient failure under load may retry one or two on their own backoff.
    assert.ok(
      lookups() - afterFirst <= 3,
      `${lookups() - afterFirst} lookups while nobody appeared`,
    );

    await f.login("late7");
    await waitFor("late7 joined", async () => (await f.joined("late7")).length === 4, {
      timeoutMs: 30_000,
    });
    assert.equal(await f.level("late0", "general"), undefined);
    assert.equal((await f.joined("late0")).length, 0);
  },
);

synapseTest(
  "an outage with many people pending is one probe per backoff, not a retry per person",
  async (hs) => {
    const proxy = startFaultProxy(hs.url);
    try {
      await using f = await lifecycleFixture(hs, {
        http: createSynapseHttp({ baseUrl: proxy.url, timeoutMs: 2000 }),
      });
      const names = Array.from({ length: 40 }, (_, i) => `out${i}`);
      await Promise.all(names.map((n) => f.login(n)));
      proxy.down();
      for (const n of names) {
        await f.lifecycle.submit(
          {
            action: "created",
            userId: f.userId(n),
            callsign: n,
            uuid: "u",
            receivedAt: new Date(),
          },
        );
      }
      const failed = () =>
        f.log.lines.flatMap((l, i) => l.includes("attempt failed; will retry") ? [i] : []);
      const paused = () => f.log.lines.findIndex((l) => l.includes("pausing all lifecycle work"));
      await waitFor(
        "two probes after the pause",
        () => paused() >= 0 && failed().filter((i) => i > paused()).length >= 2,
        { timeoutMs: 30_000 },
      );
      // Without the shared pause each of the 40 fails at once and then again on its own backoff;
      // with it, only what was already in flight (at most 16) fails before the probes.
      assert.ok(failed().length < 30, `${failed().length} failed attempts`);
      assert.equal(
        f.log.lines.filter((l) => l.includes("pausing all lifecycle work")).length,
        1,
        "the outage is reported once",
      );
      proxy.up();
      await f.settle(90_000);
      for (const n of ["out0", "out23"]) assert.equal((await f.joined(n)).length, 4, n);
    } finally {
      await proxy.close();
    }
  },
);
