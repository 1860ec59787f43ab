/**
 * @module The floor yardstick for memory, start-up and acknowledgement latency: a bare Deno
 * process with what the service cannot do without — Hono, zod, a `node:https` listener that
 * asks for and verifies client certificates (through @hono/node-server, as the service's), and
 * an open Deno KV — answering `POST /api/v1/users/created` after one validated KV commit.
 * Nothing else: no configuration, bootstrap, worker, metrics, CRL or OpenAPI.
 *
 * Run (bundled, by `bench.ts`) with FLOOR_PORT, FLOOR_CERT, FLOOR_KEY, FLOOR_CA (PEM file of the
 * client CAs) and FLOOR_KV set.
 */
import https from "node:https";
import { createAdaptorServer } from "@hono/node-server";
import { Hono } from "hono";
import { z } from "zod";

const env = (name: string) => {
  const v = Deno.env.get(name);
  if (v === undefined) throw new Error(`${name} is not set`);
  return v;
};
const Body = z.strictObject({
  uuid: z.string().min(1).max(200),
  callsign: z.string().min(1).max(200),
  x509cert: z.string(),
});
const kv = await Deno.openKv(env("FLOOR_KV"));
const app = new Hono();
app.post("/api/v1/users/created", async (c) => {
  const body = Body.safeParse(await c.req.json().catch(() => null));
  if (!body.success) return c.json({ success: false, error: "invalid body" }, 422);
  const key = ["wish", body.data.callsign];
  const current = await kv.get(key);
  const res = await kv.atomic().check(current).set(key, { ...body.data, at: Date.now() }).commit();
  if (!res.ok) return c.json({ success: false, error: "conflict" }, 503);
  return c.json({ success: true, extra: "accepted", error: null });
});
const server = createAdaptorServer({
  overrideGlobalObjects: false,
  createServer: https.createServer,
  serverOptions: {
    requestCert: true,
    rejectUnauthorized: true,
    ca: [await Deno.readTextFile(env("FLOOR_CA"))],
    cert: await Deno.readTextFile(env("FLOOR_CERT")),
    key: await Deno.readTextFile(env("FLOOR_KEY")),
    minVersion: "TLSv1.2" as const,
  },
  fetch: app.fetch,
});
server.listen(Number(env("FLOOR_PORT")), "127.0.0.1");
Deno.addSignalListener("SIGTERM", () => {
  server.close();
  kv.close();
  Deno.exit(0);
});
