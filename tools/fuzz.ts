// deno-lint-ignore-file no-console
/**
 * @module `deno task fuzz`: schemathesis (from PyPI, into `.local/fuzz-venv`) against the served
 * OpenAPI document, on the service running as a process under its production permission set:
 * the mTLS listener called with RM's certificate, the plain listener without one, in positive and
 * negative modes, every check on (no 5xx, documented statuses, content types and schemas). Run it
 * through the test wrapper for a real Synapse behind the lifecycle:
 * `deno task fuzz` = `with_homeserver.ts deno run -A tools/fuzz.ts`.
 */
import { startServiceProcess } from "../tests/support/service.ts";

const SCHEMATHESIS = "schemathesis==4.32.5";
const root = new URL("../", import.meta.url).pathname;
const venv = `${root}.local/fuzz-venv`;
const examples = Deno.env.get("FUZZ_EXAMPLES") ?? "60";

async function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<number> {
  const child = new Deno.Command(cmd, { args, env, stdin: "null" }).spawn();
  return (await child.status).code;
}

if (await run(`${venv}/bin/st`, ["--version"]).catch(() => 1) !== 0) {
  console.error(`fuzz: installing ${SCHEMATHESIS} into ${venv}…`);
  if (await run("python3", ["-m", "venv", venv]) !== 0) Deno.exit(69);
  if (await run(`${venv}/bin/pip`, ["install", "-q", SCHEMATHESIS]) !== 0) Deno.exit(69);
}

const synapse = Deno.env.get("TEST_SYNAPSE_URL");
const service = await startServiceProcess({
  env: {
    ...(synapse === undefined ? {} : {
      SYNAPSE_URL: synapse,
      SYNAPSE_REGISTRATION_SECRET: Deno.env.get("TEST_SYNAPSE_SECRET") ?? "",
      SERVER_DOMAIN: Deno.env.get("TEST_SYNAPSE_SERVER_NAME") ?? "",
    }),
    RECONCILE_INTERVAL_S: "0",
  },
  until: synapse === undefined ? "listening" : "ready",
});
const schema = `http://127.0.0.1:${service.httpPort}/api/openapi.json`;
let failed = false;
try {
  for (
    const [name, url, cert] of [
      ["mTLS listener as RM", `https://localhost:${service.mtlsPort}`, true],
      ["plain listener, no certificate", `http://127.0.0.1:${service.httpPort}`, false],
    ] as const
  ) {
    console.error(`\nfuzz: ${name} (${url}), ${examples} examples per operation and mode`);
    const code = await run(`${venv}/bin/st`, [
      "--config-file",
      `${root}tools/schemathesis.toml`,
      "run",
      schema,
      "--url",
      url,
      "--mode",
      "all",
      "--checks",
      "all",
      "--max-examples",
      examples,
      "--seed",
      Deno.env.get("FUZZ_SEED") ?? "4625",
      ...(cert
        ? [
          "--request-cert",
          service.pki.rmCert,
          "--request-cert-key",
          service.pki.rmKey,
          "--tls-verify",
          service.pki.caChain,
        ]
        : []),
    ]);
    if (code !== 0) failed = true;
  }
} finally {
  const out = await service.stop();
  const internal = out.stderr.split("\n").filter((l) => l.includes('"request failed"'));
  if (internal.length > 0) {
    failed = true;
    console.error(`fuzz: ${internal.length} requests failed inside the service:\n`, internal[0]);
  }
}
console.error(failed ? "\nfuzz: FAILED" : "\nfuzz: no 5xx, every answer as documented");
Deno.exit(failed ? 1 : 0);
