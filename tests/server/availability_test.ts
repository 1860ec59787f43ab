/**
 * RM is always answered, against the service as a process (production permissions): its own
 * bursts are never refused, other addresses holding thousands of connections open — idle TCP,
 * idle TLS, a byte a second in the head or the body — do not starve it, every attacking
 * connection is closed within its budget, and memory and open files stay bounded. Attackers
 * bind source addresses from 127.0.0.2 up; RM calls from 127.0.0.1 (a priority address by
 * default) or, for the burst, from an address with no priority at all.
 */
import assert from "node:assert/strict";
import { type ServiceProcess, startServiceProcess } from "../support/service.ts";
import {
  attack,
  type Attacker,
  type AttackKind,
  callOnce,
  type Credentials,
  credentials,
  dripEverySecond,
  footprint,
  percentile,
} from "../support/attack.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const crud = (callsign: string) => ({
  uuid: "6f1c1b36-7c1b-4f54-9d86-3f3c2d8e0a11",
  callsign,
  x509cert: "-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n",
});

async function metric(s: ServiceProcess, name: string, labels: string): Promise<number> {
  const text = (await s.plainGet("/metrics")).text;
  const line = text.split("\n").find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(" ") + 1));
}

Deno.test("500 callbacks at once from one address without priority are all answered and recorded", async () => {
  const s = await startServiceProcess();
  try {
    const rm = await credentials(s.pki.caChain, s.pki.rmCert, s.pki.rmKey);
    const answers = await Promise.all(Array.from({ length: 500 }, (_, i) =>
      callOnce({
        port: s.mtlsPort,
        path: "/api/v1/users/created",
        body: crud(`BURST${String(i).padStart(3, "0")}a`),
        from: "127.0.0.5", // not loopback's 127.0.0.1: held to the ordinary budgets
        creds: rm,
      })));
    const failed = answers.filter((a) => a.status !== 200);
    assert.equal(failed.length, 0, `${failed.length} of 500 not answered 200: ${failed[0]?.body}`);
    const ms = answers.map((a) => a.ms);
    console.log(
      `burst of 500: p50 ${percentile(ms, 50).toFixed(0)} ms, max ${
        percentile(ms, 100).toFixed(0)
      } ms`,
    );
    const status = JSON.parse((await s.plainGet("/api/v1/status")).text);
    assert.equal(status.lifecycle.pending, 500, "every callback is recorded as a wish");
    assert.equal(
      await metric(s, "matrixrmapi_connections_refused_total", 'listener="mtls"'),
      0,
    );
  } finally {
    await s.stop();
  }
});
