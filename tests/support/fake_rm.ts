/**
 * @module A fake Rasenmaeher that behaves as RM's product API does (python-rasenmaeher-api
 * `web/api/product/views.py`): the people list and `renew_csr` over mTLS, `sign_csr` on the
 * plain-TLS init host with a one-time bearer JWT as miniwerk mints it (RS256; `sub, csr, nonce, nbf,
 * iat, exp`, no `iss`; 24 h), signed by the test CA for a chosen validity — through real CFSSL when
 * given a CFSSL-made PKI, as RM signs through ocsprest — and answered as RM answers: real
 * newlines, `ca` the intermediate only, `certificate` leaf + intermediate. RM itself cannot run here.
 */
import { Hono } from "hono";
import type { AppBindings } from "../../src/transport/bindings.ts";
import { startMtlsListener } from "../../src/server/mtls.ts";
import { createCrlGuard } from "../../src/server/crl.ts";
import { createMemoryLogger } from "../../src/log/logger.ts";
import * as x509 from "../../src/x509/x509.ts";
import type { Issued, TestPki } from "../../tools/dev/pki.ts";

export interface FakeRm extends AsyncDisposable {
  /** RM's mTLS host (`rasenmaeher.mtls.base_uri`). */
  readonly baseUri: string;
  /** RM's plain-TLS host (`rasenmaeher.init.base_uri`), where `sign_csr` lives. */
  readonly initBaseUri: string;
  /** What the list endpoint answers next: a JSON value, or a raw status and body. */
  answer: { json: unknown } | { status: number; body: string };
  /** CNs of the clients that called the mTLS host, in order. */
  readonly callers: string[];
  /** Validity of the certificates it signs. @default 42 days */
  validityMs: number;
  /**
   * How the next signing replies: as RM does, with `\n` escaped in the JSON strings, with a
   * certificate for another key, refused (`renew_csr` only), or not at all (connection reset).
   */
  signing: "normal" | "escaped" | "wrong_key" | "refuse" | "down";
  /** Requests that reached `sign_csr` and `renew_csr`. */
  readonly calls: { signCsr: number; renewCsr: number; kcToken: number };
  /**
   * Where `kctoken` gets its initial access token (RM asks Keycloak's admin API for one with
   * count 1); `null` answers 403 "KC is not enabled", as RM without Keycloak does.
   */
  kcToken: (() => Promise<string>) | null;
  /** CNs `kctoken` serves (RM's `valid_product_cns`); empty = any client certificate. */
  productCns: string[];
  /** A csr_jwt as miniwerk issues it (`sub` = product DNS, 24 h unless `expiresInS`). */
  issueCsrJwt(options?: { sub?: string; expiresInS?: number; csr?: boolean }): Promise<string>;
}

const DAY = 86_400_000;
const RS_EXPONENT = new Uint8Array([1, 0, 1]);

export async function startFakeRm(pki: TestPki): Promise<FakeRm> {
  const server: Issued = await pki.issueLeaf({
    cn: "localhost",
    kind: "server",
    dnsNames: ["localhost"],
  });
  const log = createMemoryLogger();
  const crl = await createCrlGuard({ path: null, caPems: [], log });
  // miniwerk signs with its kraftwerk key (RS256); RM verifies with kraftwerk.pub.
  const jwtKeys = await crypto.subtle.generateKey(
    {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: 2048,
      publicExponent: RS_EXPONENT,
      hash: "SHA-256",
    },
    false,
    ["sign", "verify"],
  ) as CryptoKeyPair;
  const seenNonces = new Set<string>();
  const fake: {
    answer: FakeRm["answer"];
    validityMs: number;
    signing: FakeRm["signing"];
  } = { answer: { json: { callsign_list: [] } }, validityMs: 42 * DAY, signing: "normal" };
  const callers: string[] = [];
  const calls = { signCsr: 0, renewCsr: 0, kcToken: 0 };
  const kc: { kcToken: FakeRm["kcToken"]; productCns: string[] } = {
    kcToken: null,
    productCns: [],
  };

  async function sign(csr: string): Promise<Response> {
    const mode = fake.signing;
    let toSign = csr;
    if (mode === "wrong_key") {
      const cn = new x509.Pkcs10CertificateRequest(csr).subjectName.getField("2.5.4.3")[0] ?? "x";
      const keys = await crypto.subtle.generateKey(
        { name: "ECDSA", namedCurve: "P-256" },
        true,
        ["sign", "verify"],
      );
      toSign = (await x509.Pkcs10CertificateRequestGenerator.create({
        name: `CN=${cn}`,
        keys,
        signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
      })).toString("pem");
    }
    const certificate = await pki.signCsr(toSign, { validityMs: fake.validityMs });
    // RM's `ca` is `cfssl info` of the intermediate alone; the bundle carries leaf + intermediate.
    return Response.json({ ca: pki.intermediatePem, certificate });
  }

  async function readCsr(request: Request): Promise<string | Response> {
    const body = await request.json().catch(() => null) as { csr?: unknown } | null;
    if (typeof body?.csr !== "string") return _detail(422, "csr is required");
    return body.csr;
  }

  // The init host: plain TLS, `sign_csr` with the bearer JWT (multikeyjwt's JWTBearer, then
  // the view's own csr/nonce checks and the SeenToken table).
  const init = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    cert: server.certPem,
    key: server.keyPem,
    onListen: () => {},
  }, async function signCsr(request) {
    const url = new URL(request.url);
    if (request.method !== "POST" || url.pathname !== "/api/v1/product/sign_csr") {
      return _detail(404, "Not Found");
    }
    if (fake.signing === "down") return _detail(503, "Service Unavailable");
    calls.signCsr++;
    const claims = await _verifyJwt(jwtKeys.publicKey, request.headers.get("authorization"));
    if (claims === null) return _detail(403, "Invalid authentication credentials");
    if (!claims.csr) return _detail(403, "JWT does not authorize signing");
    if (typeof claims.nonce !== "string" || claims.nonce === "") {
      return _detail(403, "JWT does not provide nonce");
    }
    if (seenNonces.has(claims.nonce)) {
      return _detail(403, "This token was already used to sign a cert");
    }
    const csr = await readCsr(request);
    if (csr instanceof Response) return csr;
    const reply = await sign(csr);
    seenNonces.add(claims.nonce);
    return _escape(reply, fake.signing === "escaped");
  });

  const app = new Hono<{ Bindings: AppBindings }>();
  app.use(async (c, next) => {
    if (c.env.transport.kind === "mtls") callers.push(c.env.transport.identity.cn);
    await next();
  });
  app.get("/api/v1/people/list", (c) => {
    const a = fake.answer;
    if ("json" in a) return c.json(a.json as Record<string, unknown>);
    return new Response(a.body, {
      status: a.status,
      headers: { "content-type": "application/json" },
    });
  });
  app.post("/api/v1/product/renew_csr", async (c) => {
    calls.renewCsr++;
    if (fake.signing === "refuse" || fake.signing === "down") {
      return _detail(fake.signing === "refuse" ? 403 : 503, "refused by the test");
    }
    const csr = await readCsr(c.req.raw);
    if (csr instanceof Response) return csr;
    const cn = new x509.Pkcs10CertificateRequest(csr).subjectName.getField("2.5.4.3")[0];
    const caller = c.env.transport.kind === "mtls" ? c.env.transport.identity.cn : null;
    if (cn !== caller) return _detail(403, "Renewal must be for same name");
    return _escape(await sign(csr), fake.signing === "escaped");
  });
  app.post("/api/v1/product/kctoken", async (c) => {
    calls.kcToken++;
    const caller = c.env.transport.kind === "mtls" ? c.env.transport.identity.cn : "";
    if (kc.productCns.length > 0 && !kc.productCns.includes(caller)) {
      return _detail(403, "Forbidden");
    }
    if (kc.kcToken === null) return _detail(403, "KC is not enabled");
    const now = Math.floor(Date.now() / 1000);
    return c.json({
      id: crypto.randomUUID(),
      token: await kc.kcToken(),
      timestamp: now,
      expiration: 1,
      count: 1,
      remainingCount: 1,
    });
  });
  const listener = await startMtlsListener({
    fetch: (req, env) => app.fetch(req, env),
    hostname: "127.0.0.1",
    port: 0,
    serverCertPem: server.certPem,
    serverKeyPem: server.keyPem,
    caPems: [pki.intermediatePem, pki.rootPem],
    crl,
    log,
  });
  return {
    baseUri: `https://localhost:${listener.port}/`,
    initBaseUri: `https://localhost:${init.addr.port}/`,
    get answer() {
      return fake.answer;
    },
    set answer(a) {
      fake.answer = a;
    },
    get validityMs() {
      return fake.validityMs;
    },
    set validityMs(ms) {
      fake.validityMs = ms;
    },
    get signing() {
      return fake.signing;
    },
    set signing(mode) {
      fake.signing = mode;
    },
    get kcToken() {
      return kc.kcToken;
    },
    set kcToken(fn) {
      kc.kcToken = fn;
    },
    get productCns() {
      return kc.productCns;
    },
    set productCns(cns) {
      kc.productCns = cns;
    },
    callers,
    calls,
    async issueCsrJwt(options = {}) {
      const now = Math.floor(Date.now() / 1000);
      const claims = {
        sub: options.sub ?? "matrix.example.org",
        csr: options.csr ?? true,
        nonce: btoa(crypto.randomUUID()), // miniwerk: base64 of a UUID
        nbf: now,
        iat: now,
        exp: now + (options.expiresInS ?? 86_400),
      };
      const head = _b64url(JSON.stringify({ typ: "JWT", alg: "RS256" }));
      const body = _b64url(JSON.stringify(claims));
      const signature = await crypto.subtle.sign(
        "RSASSA-PKCS1-v1_5",
        jwtKeys.privateKey,
        new TextEncoder().encode(`${head}.${body}`),
      );
      return `${head}.${body}.${_b64url(new Uint8Array(signature))}`;
    },
    async [Symbol.asyncDispose]() {
      await init.shutdown();
      await listener.close();
      await crl.close();
    },
  };
}

function _detail(status: number, detail: string): Response {
  return Response.json({ detail }, { status });
}

/** RM's CFSSL output keeps its newlines escaped inside the JSON string (`\\n`). */
async function _escape(reply: Response, escaped: boolean): Promise<Response> {
  if (!escaped) return reply;
  const json = await reply.json() as { ca: string; certificate: string };
  return Response.json({
    ca: json.ca.replaceAll("\n", "\\n"),
    certificate: json.certificate.replaceAll("\n", "\\n"),
  });
}

async function _verifyJwt(
  key: CryptoKey,
  header: string | null,
): Promise<Record<string, unknown> | null> {
  const token = /^Bearer (.+)$/.exec(header ?? "")?.[1];
  const parts = token?.split(".");
  if (parts?.length !== 3) return null;
  const [head, body, signature] = parts as [string, string, string];
  const ok = await crypto.subtle.verify(
    "RSASSA-PKCS1-v1_5",
    key,
    _unb64url(signature),
    new TextEncoder().encode(`${head}.${body}`),
  ).catch(() => false);
  if (!ok) return null;
  const claims = JSON.parse(new TextDecoder().decode(_unb64url(body))) as Record<string, unknown>;
  if (typeof claims.exp !== "number" || claims.exp * 1000 <= Date.now()) return null;
  if (typeof claims.nbf === "number" && claims.nbf * 1000 > Date.now() + 60_000) return null;
  return claims;
}

function _b64url(data: string | Uint8Array): string {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_")
    .replace(/=+$/, "");
}

function _unb64url(text: string): Uint8Array<ArrayBuffer> {
  const b64 = text.replaceAll("-", "+").replaceAll("_", "/");
  return Uint8Array.from(
    atob(b64.padEnd(Math.ceil(b64.length / 4) * 4, "=")),
    (c) => c.charCodeAt(0),
  );
}
