/** @module Real TLS handshakes on loopback against the mTLS listener, with a generated PKI. */
import assert from "node:assert/strict";
import tls from "node:tls";
import { Hono } from "hono";
import {
  AttributeTypeAndValue,
  AttributeValue,
  Name,
  RelativeDistinguishedName,
} from "@peculiar/asn1-x509";
import type { AppBindings } from "../../src/transport/bindings.ts";
import { createMemoryLogger } from "../../src/log/logger.ts";
import { createCrlGuard } from "../../src/server/crl.ts";
import { formatDn, readPeerCertificate, startMtlsListener } from "../../src/server/mtls.ts";
import { normaliseSerial } from "../../src/x509/serial.ts";
import { X509Certificate } from "../../src/x509/x509.ts";
import { createTestPki, type Issued, randomSerialHex, type TestPki } from "../../tools/dev/pki.ts";
import { type CfsslPki, cfsslPki, cfsslTest } from "../support/cfssl.ts";
import { waitFor } from "../support/wait.ts";

/** `cfssl`: certificates and CRLs made by real CFSSL 1.6.5 as the ecosystem's CA makes them. */
type FixtureOptions = { revoked?: readonly string[]; pollMs?: number; cfssl?: boolean };
type Fixture = Awaited<ReturnType<typeof startFixture>>;

async function startFixture(options: FixtureOptions = {}) {
  const pki: TestPki & Partial<Pick<CfsslPki, "close">> = options.cfssl
    ? await cfsslPki()
    : await createTestPki();
  const dir = await Deno.makeTempDir({ prefix: "mtls-test-" });
  const crlPath = `${dir}/crl.pem`;
  // Publishes a two-CRL file the way CAs do: write aside, then rename over.
  async function publishCrl(byIntermediate: readonly string[], byRoot: readonly string[] = []) {
    const pem = (await pki.issueCrl({ issuer: "root", revokedSerials: byRoot })) +
      (await pki.issueCrl({ issuer: "intermediate", revokedSerials: byIntermediate }));
    await Deno.writeTextFile(`${crlPath}.tmp`, pem);
    await Deno.rename(`${crlPath}.tmp`, crlPath);
  }
  await publishCrl(options.revoked ?? []);
  const log = createMemoryLogger();
  const caPems = [pki.intermediatePem, pki.rootPem];
  const crl = await createCrlGuard({ path: crlPath, caPems, log, pollMs: options.pollMs ?? 2000 });
  const app = new Hono<{ Bindings: AppBindings }>();
  app.get("/whoami", (c) => c.json(c.env.transport));
  // A response that never ends, like a long poll: only close() can end its connection.
  app.get("/endless", () =>
    new Response(
      new ReadableStream({ start: (c) => c.enqueue(new TextEncoder().encode("…")) }),
    ));
  const server = await pki.issueLeaf({ cn: "localhost", kind: "server", dnsNames: ["localhost"] });
  const listener = await startMtlsListener({
    fetch: (request, env) => app.fetch(request, env),
    hostname: "127.0.0.1",
    port: 0,
    serverCertPem: server.certPem,
    serverKeyPem: server.keyPem,
    caPems,
    crl,
    log,
  });
  const url = `https://localhost:${listener.port}/whoami`;
  // A client of its own (one connection pool) presenting `who`'s certificate, or none.
  const client = (who: Issued | null) =>
    Deno.createHttpClient({
      caCerts: [pki.chainPem],
      ...(who === null ? {} : { cert: who.certPem, key: who.keyPem }),
    });
  return {
    pki,
    port: listener.port,
    log,
    publishCrl,
    refreshCrl: () => crl.refresh(),
    setCertificate: (certPem: string, keyPem: string) => listener.setCertificate(certPem, keyPem),
    client,
    /** GET /whoami on a fresh client: the transport the app saw. */
    async call(who: Issued | null): Promise<{ status: number; body: Record<string, unknown> }> {
      const http = client(who);
      try {
        const res = await fetch(url, { client: http });
        return { status: res.status, body: await res.json() };
      } finally {
        http.close();
      }
    },
    async close() {
      await listener.close();
      await crl.close();
      await Deno.remove(dir, { recursive: true });
      await pki.close?.();
    },
  };
}

/** Runs `body` against a fresh fixture and always tears it down. */
function withFixture(
  name: string,
  body: (f: Fixture) => Promise<void>,
  options: FixtureOptions = {},
): void {
  (options.cfssl ? cfsslTest : Deno.test)(name, async () => {
    const f = await startFixture(options);
    try {
      await body(f);
    } finally {
      await f.close();
    }
  });
}

const logged = (f: Fixture, message: string) =>
  f.log.lines.map((l) => JSON.parse(l)).filter((l) => l.message === message);

withFixture(
  "mTLS listener admits Rasenmaeher and hands the app its CN, RFC 4514 DN and serial",
  async (f) => {
    const rm = await f.pki.issueLeaf({
      cn: "rasenmaeher",
      o: "Example, Inc.",
      kind: "client",
      serialHex: randomSerialHex("high-bit"), // DER adds a zero byte that must not reach the app
    });
    const { status, body } = await f.call(rm);
    assert.equal(status, 200);
    assert.deepEqual(body, {
      kind: "mtls",
      identity: {
        cn: "rasenmaeher",
        dn: "CN=rasenmaeher,O=Example\\, Inc.",
        serial: normaliseSerial(rm.serialHex),
        via: "mtls",
      },
      remoteAddress: "127.0.0.1",
    });
  },
);

withFixture("mTLS listener admits a person's certificate under the person's CN", async (f) => {
  const serialHex = randomSerialHex("odd-digits");
  const person = await f.pki.issueLeaf({ cn: "DEVUSER1a", kind: "client", serialHex });
  await admitsPerson(f, person);
});

withFixture(
  "mTLS listener admits a person's certificate from CFSSL's client profile under the person's CN",
  async (f) => admitsPerson(f, await f.pki.issueLeaf({ cn: "DEVUSER1a", kind: "client" })),
  { cfssl: true },
);

async function admitsPerson(f: Fixture, person: Issued): Promise<void> {
  const { status, body } = await f.call(person);
  assert.equal(status, 200);
  assert.deepEqual(body.identity, {
    cn: "DEVUSER1a",
    dn: "CN=DEVUSER1a",
    serial: normaliseSerial(person.serialHex),
    via: "mtls",
  });
}

withFixture("mTLS listener refuses a client that presents no certificate", async (f) => {
  await assert.rejects(() => f.call(null));
  assert.ok(logged(f, "TLS handshake refused").length >= 1);
});

withFixture("mTLS listener refuses a foreign CA, even one that copies our CA names", async (f) => {
  await assert.rejects(async () => f.call(await f.pki.foreignClient("rasenmaeher")));
  const impostor = await f.pki.foreignClient("rasenmaeher", { sameNames: true });
  await assert.rejects(() => f.call(impostor));
});

withFixture("mTLS listener refuses an X.509 v1 client certificate in the handshake", async (f) => {
  const v1 = await f.pki.issueLeaf({ cn: "rasenmaeher", kind: "client", v1: true });
  // Deno's own TLS client will not even present a v1 certificate…
  await assert.rejects(() => f.call(v1));
  // …node:tls will: the server must end the connection without an HTTP answer.
  const answer = await new Promise<string>((resolve) => {
    let received = "";
    const socket = tls.connect({
      host: "127.0.0.1",
      port: f.port,
      servername: "localhost",
      ca: f.pki.chainPem,
      cert: v1.certPem,
      key: v1.keyPem,
    }, () => socket.write("GET /whoami HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    socket.on("data", (chunk) => (received += String(chunk)));
    socket.on("error", () => {});
    socket.on("close", () => resolve(received));
  });
  assert.equal(answer, "");
  assert.equal(logged(f, "refused a client certificate").length, 0, "the TLS layer refused it");
});

Deno.test("readPeerCertificate() refuses an X.509 v1 certificate should a TLS stack let one through", async () => {
  const pki = await createTestPki();
  const v1 = await pki.issueLeaf({ cn: "rasenmaeher", kind: "client", v1: true });
  const reading = readPeerCertificate(new Uint8Array(new X509Certificate(v1.certPem).rawData));
  assert.deepEqual(reading, { ok: false, reason: "X.509 v1 certificate" });
});

Deno.test("formatDn() writes RFC 4514: most specific first, escaped, OIDs without a name as #hex", () => {
  const atv = (type: string, value: Partial<AttributeValue>) =>
    new AttributeTypeAndValue({ type, value: new AttributeValue(value) });
  const rdn = (...atvs: AttributeTypeAndValue[]) => new RelativeDistinguishedName(atvs);
  const name = new Name([
    rdn(atv("2.5.4.6", { printableString: "FI" })),
    rdn(atv("2.5.4.10", { utf8String: "Example, Inc." })),
    rdn(
      atv("2.5.4.11", { utf8String: "Ops" }),
      atv("1.2.840.113549.1.9.1", { ia5String: "a@b.fi" }),
    ),
    rdn(atv("2.5.4.3", { utf8String: "#hash+plus " })),
  ]);
  assert.equal(
    formatDn(name),
    "CN=\\#hash\\+plus\\ ,OU=Ops+1.2.840.113549.1.9.1=#16066140622e6669,O=Example\\, Inc.,C=FI",
  );
});

const ODD = randomSerialHex("odd-digits");
withFixture(
  "mTLS listener refuses a client whose serial is on the intermediate CA's CRL",
  async (f) => {
    const revoked = await f.pki.issueLeaf({ cn: "ROTTA01a", kind: "client", serialHex: ODD });
    assert.equal(revoked.serialHex.length % 2, 0, "peculiar pads to whole bytes…");
    assert.equal(normaliseSerial(revoked.serialHex).length % 2, 1, "…node does not");
    await assert.rejects(() => f.call(revoked));
    const [refusal] = logged(f, "refused a client certificate");
    assert.equal(refusal?.reason, "revoked by the CRL");
    assert.equal(refusal?.subject_cn, "ROTTA01a");
    assert.equal(refusal?.serial, normaliseSerial(ODD));
    assert.doesNotMatch(f.log.lines.join("\n"), /PRIVATE KEY/);
    // The CRL names one certificate, not the CA: others still get in.
    assert.equal(
      (await f.call(await f.pki.issueLeaf({ cn: "ROTTA02a", kind: "client" }))).status,
      200,
    );
  },
  { revoked: [normaliseSerial(ODD).toUpperCase()] },
); // written the way node prints serials

withFixture(
  "mTLS listener refuses a newly revoked certificate after the CRL file is replaced, without a restart",
  async (f) => {
    const person = await f.pki.issueLeaf({ cn: "ROTTA01a", kind: "client" });
    assert.equal((await f.call(person)).status, 200);
    await f.publishCrl([person.serialHex]);
    // The default poll is every 2 s: refused within 5 s.
    await waitFor(
      "the person refused after the CRL was replaced",
      () => f.call(person).then(() => false, () => true),
      { timeoutMs: 5000, intervalMs: 100 },
    );
  },
  { cfssl: true }, // the person revoked in CFSSL's database, the CRL from `cfssl crl`
);

withFixture(
  "mTLS listener drops a keep-alive connection whose certificate is revoked after it opened",
  async (f) => {
    const person = await f.pki.issueLeaf({ cn: "ROTTA01a", kind: "client" });
    const http = f.client(person);
    try {
      const url = `https://localhost:${f.port}/whoami`;
      assert.equal((await (await fetch(url, { client: http })).json()).identity.cn, "ROTTA01a");
      await f.publishCrl([person.serialHex]);
      await f.refreshCrl();
      await assert.rejects(() => fetch(url, { client: http }));
      assert.equal(
        logged(f, "dropped a connection whose certificate was revoked after it opened").length,
        1,
      );
    } finally {
      http.close();
    }
  },
  { pollMs: 60_000, cfssl: true },
);

withFixture(
  "mTLS listener refuses every certificate of an intermediate CA that the root's CRL revokes",
  async (f) => {
    const person = await f.pki.issueLeaf({ cn: "ROTTA01a", kind: "client" });
    const intermediate = new X509Certificate(f.pki.intermediatePem);
    await f.publishCrl([], [intermediate.serialNumber]);
    await f.refreshCrl();
    await assert.rejects(() => f.call(person));
    const [refusal] = logged(f, "refused a client certificate");
    assert.equal(refusal?.reason, "issuing CA revoked by the CRL");
    assert.equal(refusal?.revoked_subject, intermediate.subject);
  },
  { pollMs: 60_000 },
);

Deno.test("mTLS listener close() ends open connections instead of waiting for them", async () => {
  const f = await startFixture();
  const http = f.client(await f.pki.issueLeaf({ cn: "rasenmaeher", kind: "client" }));
  try {
    const res = await fetch(`https://localhost:${f.port}/endless`, { client: http });
    const reader = res.body!.getReader();
    await reader.read(); // the response is under way and will never finish on its own
    let timer: ReturnType<typeof setTimeout> | undefined;
    const closed = await Promise.race([
      f.close().then(() => true),
      new Promise<false>((r) => (timer = setTimeout(() => r(false), 3000))),
    ]);
    clearTimeout(timer);
    assert.ok(closed, "close() waited on an open connection");
    await assert.rejects(() => reader.read()); // the server cut it
  } finally {
    http.close();
  }
});

/** A raw TLS connection presenting `who`, once its handshake is done. */
function _connect(f: Fixture, who: Issued): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: "127.0.0.1",
      port: f.port,
      servername: "localhost",
      ca: f.pki.chainPem,
      cert: who.certPem,
      key: who.keyPem,
    }, () => resolve(socket));
    socket.once("error", reject);
  });
}

/** Sends one keep-alive GET on `socket` and resolves with the status line. */
function _get(socket: tls.TLSSocket, path: string): Promise<string> {
  return new Promise((resolve) => {
    let received = "";
    const onData = (chunk: unknown) => {
      received += String(chunk);
      if (received.includes("\r\n")) {
        socket.off("data", onData);
        resolve(received.slice(0, received.indexOf("\r\n")));
      }
    };
    socket.on("data", onData);
    socket.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
  });
}

withFixture(
  "a new server certificate is presented from the next handshake; an open connection keeps working",
  async (f) => {
    const rm = await f.pki.issueLeaf({ cn: "rasenmaeher", kind: "client" });
    const before = await _connect(f, rm);
    const oldSerial = normaliseSerial(before.getPeerCertificate().serialNumber);
    assert.equal(await _get(before, "/whoami"), "HTTP/1.1 200 OK");
    const renewed = await f.pki.issueLeaf({
      cn: "localhost",
      kind: "server",
      dnsNames: ["localhost"],
    });
    f.setCertificate(renewed.certPem, renewed.keyPem);
    const after = await _connect(f, rm);
    try {
      const newSerial = normaliseSerial(after.getPeerCertificate().serialNumber);
      assert.equal(newSerial, normaliseSerial(renewed.serialHex));
      assert.notEqual(newSerial, oldSerial);
      assert.equal(await _get(after, "/whoami"), "HTTP/1.1 200 OK");
      assert.equal(await _get(before, "/whoami"), "HTTP/1.1 200 OK", "in flight on the old pair");
    } finally {
      before.destroy();
      after.destroy();
    }
  },
  { cfssl: true }, // CFSSL's `peer` profile for the listener, its `client` profile for RM
);
