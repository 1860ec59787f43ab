/**
 * The connection budgets as data: who is admitted and who is refused, per listener, address,
 * handshake stage and certificate, and that closing a connection gives its place back.
 */
import assert from "node:assert/strict";
import { type AdmissionPolicy, createAdmission, type Ticket } from "../../src/server/admission.ts";
import { admissionPolicy, DEFAULT_LIMITS } from "../../src/server/limits.ts";

const POLICY: AdmissionPolicy = {
  maxConnections: 12,
  maxOrdinary: 9,
  maxPerAddress: 4,
  maxHandshakes: 6,
  maxHandshakesPerAddress: 3,
  maxPerIdentity: 2,
};
const ORDINARY = { priority: false, tls: true };
const PRIORITY = { priority: true, tls: true };

function ticketOf(verdict: ReturnType<ReturnType<typeof createAdmission>["admit"]>): Ticket {
  assert.ok("ticket" in verdict, `refused: ${"refused" in verdict ? verdict.refused : ""}`);
  return verdict.ticket;
}

Deno.test("createAdmission() refuses an address over its share of handshakes and connections", () => {
  const a = createAdmission(POLICY);
  const shaking = [1, 2, 3].map(() => ticketOf(a.admit("10.0.0.2", ORDINARY)));
  assert.deepEqual(a.admit("10.0.0.2", ORDINARY), { refused: "address_handshakes_full" });
  // Another address is not held back by the first one's handshakes.
  ticketOf(a.admit("10.0.0.3", ORDINARY));
  // Once through the handshake, the address may open more, up to its connection share.
  for (const t of shaking) {
    assert.equal(a.handshaken(t, "person"), t === shaking[2] ? "identity_full" : null);
  }
  ticketOf(a.admit("10.0.0.2", ORDINARY));
  assert.deepEqual(a.admit("10.0.0.2", ORDINARY), { refused: "address_full" });
  assert.deepEqual(a.stats(), { open: 5, ordinary: 5, handshaking: 2, addresses: 2 });
});

Deno.test("createAdmission() keeps the handshake budget and a quarter of the listener for priority addresses", () => {
  const a = createAdmission(POLICY);
  for (let i = 0; i < 6; i++) ticketOf(a.admit(`10.0.1.${i}`, ORDINARY));
  assert.deepEqual(a.admit("10.0.2.1", ORDINARY), { refused: "handshakes_full" });
  for (let i = 0; i < 3; i++) ticketOf(a.admit(`10.0.3.${i}`, { priority: false, tls: false }));
  assert.deepEqual(a.admit("10.0.2.1", { priority: false, tls: false }), {
    refused: "listener_full",
  });
  // RM's address: not held to any share, only to the overall cap.
  const rm = [1, 2, 3].map(() => ticketOf(a.admit("127.0.0.1", PRIORITY)));
  assert.deepEqual(a.admit("127.0.0.1", PRIORITY), { refused: "listener_full" });
  for (const t of rm) assert.equal(a.handshaken(t, "rm-is-exempt-anyway"), null);
  a.release(rm[0]!);
  ticketOf(a.admit("127.0.0.1", PRIORITY));
});

Deno.test("createAdmission() limits a certificate's connections unless it is exempt", () => {
  const a = createAdmission(POLICY);
  const from = (addr: string) => ticketOf(a.admit(addr, ORDINARY));
  assert.equal(a.handshaken(from("10.0.0.2"), "alice"), null);
  assert.equal(a.handshaken(from("10.0.0.3"), "alice"), null);
  const third = from("10.0.0.4");
  assert.equal(a.handshaken(third, "alice"), "identity_full");
  // RM (exempt: no identity key) is never limited by it.
  for (let i = 0; i < 3; i++) assert.equal(a.handshaken(from(`10.0.0.${5 + i}`), null), null);
  a.release(third);
  a.release(third); // idempotent
  assert.equal(a.stats().open, 5);
});

Deno.test("createAdmission() gives every place back when connections close", () => {
  const a = createAdmission(POLICY);
  const all: Ticket[] = [];
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 9; i++) {
      const t = ticketOf(a.admit(`10.0.4.${i % 3}`, { priority: false, tls: i % 2 === 0 }));
      if (i % 4 === 0) a.handshaken(t, `id${i}`);
      all.push(t);
    }
    for (const t of all.splice(0)) a.release(t);
    assert.deepEqual(a.stats(), { open: 0, ordinary: 0, handshaking: 0, addresses: 0 });
  }
});

Deno.test("admissionPolicy() keeps a quarter of HTTP_MAX_CONNECTIONS for priority addresses", () => {
  const p = admissionPolicy(DEFAULT_LIMITS);
  assert.equal(p.maxConnections, 4096);
  assert.equal(p.maxOrdinary, 3072);
  // A burst of hundreds of callbacks from one address fits the defaults.
  assert.ok(p.maxPerAddress >= 500 && p.maxHandshakesPerAddress >= 500);
});

Deno.test("createAdmission() evicts the oldest handshake of the biggest holder for an address holding fewer", () => {
  const a = createAdmission(POLICY);
  const first = [1, 2, 3].map(() => ticketOf(a.admit("10.0.0.2", ORDINARY)));
  [1, 2, 3].forEach(() => ticketOf(a.admit("10.0.0.3", ORDINARY)));
  // Full (6): RM's address, without priority, holding none, gets in all the same.
  const rm = a.admit("10.0.0.9", ORDINARY);
  assert.ok("ticket" in rm && rm.evicted === first[0], "the oldest of 10.0.0.2's is evicted");
  assert.equal(first[0]!.released, true);
  const again = a.admit("10.0.0.9", ORDINARY);
  assert.ok("ticket" in again && again.evicted?.address === "10.0.0.3");
  // Now nobody holds two more than 10.0.0.9 (2, 2, 2): a fair share, so refused.
  assert.deepEqual(a.admit("10.0.0.9", ORDINARY), { refused: "handshakes_full" });
  assert.deepEqual(a.admit("10.0.0.2", ORDINARY), { refused: "handshakes_full" });
  // Many addresses with one each: nothing to take, the budget holds.
  const b = createAdmission(POLICY);
  for (let i = 0; i < 6; i++) ticketOf(b.admit(`10.1.0.${i}`, ORDINARY));
  assert.deepEqual(b.admit("10.0.0.9", ORDINARY), { refused: "handshakes_full" });
  assert.deepEqual(a.stats().handshaking, 6);
});
