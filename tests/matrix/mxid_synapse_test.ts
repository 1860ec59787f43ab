import assert from "node:assert/strict";
import { synapseTest } from "../support/synapse.ts";
import { mapUsernameToLocalpart } from "../../src/matrix/mxid.ts";

// The same callsigns through Synapse's own function (after Keycloak's lower-casing), so the
// table in mxid_test.ts cannot drift from the real thing.
synapseTest(
  "mapUsernameToLocalpart() agrees with Synapse's map_username_to_mxid_localpart",
  async (hs) => {
    const callsigns = [
      "ROTTA01a",
      "_leading",
      "equals=sign",
      "with space",
      "Äijä",
      "snow☃",
      "emoji😀",
      "a/b+c.d-e_f",
      "ÖRKKI",
      "tab\tx",
    ];
    const script =
      "import json,sys\nfrom synapse.types import map_username_to_mxid_localpart as m\n" +
      "print(json.dumps([m(s.lower()) for s in json.loads(sys.stdin.read())]))";
    const child = new Deno.Command(hs.python, {
      args: ["-c", script],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    })
      .spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(JSON.stringify(callsigns)));
    await writer.close();
    const out = await child.output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const expected: string[] = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.deepEqual(callsigns.map(mapUsernameToLocalpart), expected);
  },
);
