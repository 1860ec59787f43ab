import assert from "node:assert/strict";
import { nextWish, type Wish } from "../../src/lifecycle/wish.ts";

const apply = (...actions: Array<"created" | "promoted" | "demoted" | "revoked">) => {
  let wish: Wish | null = null;
  for (const a of actions) {
    const change = nextWish(wish, a);
    if (change.kind === "revoked") return "refused";
    wish = change.wish;
  }
  return wish;
};

Deno.test("nextWish(): the latest of promote and demote wins", () => {
  assert.equal((apply("promoted", "demoted", "promoted") as Wish).admin, true);
  assert.equal((apply("promoted", "promoted", "demoted") as Wish).admin, false);
});

Deno.test("nextWish(): promote after demote leaves the user an admin; demote keeps membership", () => {
  const w = apply("created", "demoted") as Wish;
  assert.deepEqual(w, { member: true, admin: false, revoked: false, everAdmin: false });
  assert.equal((apply("created", "promoted", "demoted") as Wish).everAdmin, true);
});

Deno.test("nextWish(): revocation is final; only a repeated revocation is accepted", () => {
  assert.equal(apply("created", "revoked", "created"), "refused");
  assert.equal(apply("revoked", "promoted"), "refused");
  assert.deepEqual(apply("promoted", "revoked", "revoked"), {
    member: false,
    admin: false,
    revoked: true,
    everAdmin: true,
  });
});

Deno.test("nextWish(): a promotion makes a member too", () => {
  assert.deepEqual(apply("promoted"), {
    member: true,
    admin: true,
    revoked: false,
    everAdmin: true,
  });
});
