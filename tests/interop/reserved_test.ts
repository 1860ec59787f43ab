import assert from "node:assert/strict";
import { reservedAccount } from "../../src/matrix/mxid.ts";
import { missingRooms } from "../../src/interop/ingest_rooms.ts";

Deno.test("reservedAccount() names the ingest bot as reserved, beside our bot and its helpers", () => {
  const id = (local: string) => `@${local}:example.fi`;
  assert.match(reservedAccount(id("battlelog-bot"), "bot", "battlelog-bot")!, /interop ingest bot/);
  assert.match(reservedAccount(id("bot"), "bot", "battlelog-bot")!, /own bot/);
  assert.match(reservedAccount(id("bot-recovery-1"), "bot", "battlelog-bot")!, /recovery/);
  assert.equal(reservedAccount(id("rotta01a"), "bot", "battlelog-bot"), null);
  assert.equal(reservedAccount(id("battlelog-bot"), "bot"), null);
});

Deno.test("missingRooms() wants the Space, the public rooms and the children, never the admin room", () => {
  const rooms = { space: "!s", general: "!g", helpdesk: "!h", offtopic: "!o", admin: "!a" };
  assert.deepEqual(
    missingRooms(rooms, ["!c1", "!a", "!g"], []),
    [
      "!a",
      "!c1",
      "!g",
      "!h",
      "!o",
      "!s",
    ].filter((r) => r !== "!a"),
  );
  assert.deepEqual(missingRooms(rooms, ["!c1"], ["!s", "!g", "!h", "!o", "!x"]), ["!c1"]);
  assert.deepEqual(missingRooms(rooms, [], ["!s", "!g", "!h", "!o"]), []);
});
