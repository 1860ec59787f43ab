/**
 * @module Rasenmaeher's product API as a client (ky), the one client of RM: `sign_csr` with the
 * manifest's one-time JWT; `renew_csr`, `kctoken` and the people list over mTLS with the current
 * pair. Replies are parsed with zod (a partial or malformed answer is a failure, never an empty
 * truth); failures come back as results that say whether trying again can help. No token ever
 * reaches a message.
 */
import ky from "ky";
import { z } from "zod";

/** The certificate and key the product presents to RM's mTLS host. */
export interface ClientPair {
  readonly certPem: string;
  readonly keyPem: string;
}

/** What RM's `sign_csr` and `renew_csr` answer (`CertificatesResponse`). */
const CertificatesReply = z.object({ ca: z.string(), certificate: z.string().min(1) });

/** What RM's `kctoken` answers (`KCClientToken`): a Keycloak initial access token. */
const KcTokenReply = z.object({ token: z.string().min(1) }).loose();

/** A person on RM's list (`GET api/v1/people/list?revoked=true`). */
export const Person = z.object({
  callsign: z.string().min(1),
  roles: z.array(z.string()),
  extra: z.record(z.string(), z.unknown()).nullable(),
  revoked: z.string().nullable(),
});
export type Person = z.infer<typeof Person>;
const PeopleReply = z.object({ callsign_list: z.array(Person) });

/** `unreachable`: network, timeout or 5xx (try again); `refused`: RM said no (4xx). */
export interface RmFailure {
  readonly ok: false;
  readonly kind: "unreachable" | "refused" | "bad_reply";
  readonly status: number;
  readonly message: string;
}

export type SignResult =
  | { readonly ok: true; readonly certificatePem: string; readonly caPem: string }
  | RmFailure;

export type KcTokenResult = { readonly ok: true; readonly token: string } | RmFailure;

export type PeopleResult = { readonly ok: true; readonly people: readonly Person[] } | RmFailure;

export interface RmProductApi {
  /** `POST {init}api/v1/product/sign_csr` with `Authorization: Bearer <csr_jwt>`. */
  signCsr(csrPem: string, csrJwt: string): Promise<SignResult>;
  /** `POST {mtls}api/v1/product/renew_csr`, authenticated by `pair`. */
  renewCsr(csrPem: string, pair: ClientPair): Promise<SignResult>;
  /** `POST {mtls}api/v1/product/kctoken` (no body): an initial access token for Keycloak. */
  kcToken(pair: ClientPair): Promise<KcTokenResult>;
  /** `GET {mtls}api/v1/people/list?revoked=true`, authenticated by `pair`. */
  peopleList(pair: ClientPair): Promise<PeopleResult>;
}

export interface RmProductApiOptions {
  /** `rasenmaeher.init.base_uri` (RM's plain-TLS host); `null` when the manifest has none. */
  readonly initBaseUri: string | null;
  /** `rasenmaeher.mtls.base_uri`; `null` when the manifest has none. */
  readonly mtlsBaseUri: string | null;
  /** CA certificates trusted besides the system store (RM's hosts may use the deployment CA). */
  readonly caPems: () => Promise<readonly string[]>;
  /** Per-request timeout. @default 30000 */
  readonly timeoutMs?: number;
}

/** Newlines in RM's PEM may arrive escaped as `\n`; undo that. */
export function unescapePem(text: string): string {
  return text.replaceAll("\\n", "\n");
}

export function createRmProductApi(o: RmProductApiOptions): RmProductApi {
  const timeout = o.timeoutMs ?? 30_000;

  async function call<T>(
    base: string | null,
    baseName: string,
    path: string,
    init: { method?: "GET" | "POST"; csrPem?: string; bearer?: string; pair?: ClientPair },
    schema: z.ZodType<T>,
  ): Promise<{ readonly ok: true; readonly reply: T } | RmFailure> {
    if (base === null) {
      return {
        ok: false,
        kind: "refused",
        status: 0,
        message: `the manifest has no rasenmaeher.${baseName}.base_uri`,
      };
    }
    const url = new URL(path, base);
    const client = Deno.createHttpClient({
      caCerts: [...await o.caPems()],
      ...(init.pair === undefined ? {} : { cert: init.pair.certPem, key: init.pair.keyPem }),
    });
    const method = init.method ?? "POST";
    const where = `${method} ${url.pathname} on ${url.host}`;
    try {
      const res = await ky(url, {
        method,
        ...(init.csrPem === undefined ? {} : { json: { csr: init.csrPem } }),
        headers: init.bearer === undefined ? {} : { authorization: `Bearer ${init.bearer}` },
        timeout,
        retry: 0,
        throwHttpErrors: false,
        fetch: (input, requestInit) => fetch(input, { ...requestInit, client }),
      });
      const text = await res.text();
      if (!res.ok) {
        return {
          ok: false,
          kind: res.status >= 500 || res.status === 429 ? "unreachable" : "refused",
          status: res.status,
          message: `${where} answered HTTP ${res.status}${_detail(text)}`,
        };
      }
      const parsed = schema.safeParse(_json(text));
      if (!parsed.success) {
        return {
          ok: false,
          kind: "bad_reply",
          status: res.status,
          message: `${where} answered an unexpected shape: ${
            z.prettifyError(parsed.error).slice(0, 300)
          }`,
        };
      }
      return { ok: true, reply: parsed.data };
    } catch (err) {
      return {
        ok: false,
        kind: "unreachable",
        status: 0,
        message: `cannot reach ${url.origin}: ${(err as Error).message}`,
      };
    } finally {
      client.close();
    }
  }

  const certificates = (r: { ok: true; reply: z.infer<typeof CertificatesReply> } | RmFailure) =>
    r.ok
      ? {
        ok: true as const,
        certificatePem: unescapePem(r.reply.certificate),
        caPem: unescapePem(r.reply.ca),
      }
      : r;

  return {
    signCsr: async (csrPem, csrJwt) =>
      certificates(
        await call(o.initBaseUri, "init", "api/v1/product/sign_csr", {
          csrPem,
          bearer: csrJwt,
        }, CertificatesReply),
      ),
    renewCsr: async (csrPem, pair) =>
      certificates(
        await call(o.mtlsBaseUri, "mtls", "api/v1/product/renew_csr", {
          csrPem,
          pair,
        }, CertificatesReply),
      ),
    kcToken: async (pair) => {
      const r = await call(o.mtlsBaseUri, "mtls", "api/v1/product/kctoken", { pair }, KcTokenReply);
      return r.ok ? { ok: true, token: r.reply.token } : r;
    },
    peopleList: async (pair) => {
      const r = await call(o.mtlsBaseUri, "mtls", "api/v1/people/list?revoked=true", {
        method: "GET",
        pair,
      }, PeopleReply);
      return r.ok ? { ok: true, people: r.reply.callsign_list } : r;
    },
  };
}

function _json(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** FastAPI's `{"detail": "..."}`, quoted and shortened; RM's own words help the operator. */
function _detail(text: string): string {
  const detail = z.object({ detail: z.string() }).safeParse(_json(text));
  if (!detail.success) return "";
  const clean = detail.data.detail.replace(/[^\x20-\x7e]/g, "?").slice(0, 200);
  return `: ${JSON.stringify(clean)}`;
}
