// deno-lint-ignore-file no-console
/**
 * @module `deno task test` and `deno task dev` run through this: one real Synapse for the whole
 * run, its URL and secret handed to the command in the environment, stopped when it ends.
 */
import {
  ensureSynapseInstalled,
  type Homeserver,
  startHomeserver,
  SynapseUnavailableError,
} from "./homeserver.ts";

const [cmd, ...args] = Deno.args;
if (cmd === undefined) {
  console.error("usage: with_homeserver.ts <command> [args...]");
  Deno.exit(64);
}

let hs: Homeserver | null = null;
const env: Record<string, string> = {};
try {
  hs = await startHomeserver({
    serverName: Deno.env.get("TEST_SYNAPSE_SERVER_NAME") ?? "matrixrmapi.test",
  });
  env.TEST_SYNAPSE_URL = hs.url;
  env.TEST_SYNAPSE_SERVER_NAME = hs.serverName;
  env.TEST_SYNAPSE_SECRET = hs.registrationSecret;
  env.TEST_SYNAPSE_PYTHON = await ensureSynapseInstalled();
  console.error(`with_homeserver: Synapse ${hs.serverName} at ${hs.url} (state in ${hs.dir})`);
} catch (err) {
  if (!(err instanceof SynapseUnavailableError) || Deno.env.get("CI") === "true") throw err;
  console.error(
    "\n!!! with_homeserver: NO SYNAPSE — Python/pip is missing, so every test that needs a real " +
      `homeserver is SKIPPED.\n!!! ${err.message}\n`,
  );
  env.TEST_SYNAPSE_UNAVAILABLE = err.message;
}

// "deno" means this Deno: it need not be on PATH (tools/deno provides it).
const child = new Deno.Command(cmd === "deno" ? Deno.execPath() : cmd, {
  args,
  env,
  stdin: "inherit",
}).spawn();
const forward = () => child.kill("SIGTERM");
Deno.addSignalListener("SIGINT", forward);
Deno.addSignalListener("SIGTERM", forward);
const status = await child.status;
await hs?.stop();
// A passing run leaves nothing behind; a failing one keeps Synapse's log for reading.
if (hs !== null && status.code === 0) await Deno.remove(hs.dir, { recursive: true });
Deno.exit(status.code);
