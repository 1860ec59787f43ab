/**
 * @module Keycloak's OpenID Connect dynamic client registration as a client (ky): register with an
 * initial access token, then read and update the client through its `registration_client_uri`
 * with the `registration_access_token`. Replies are parsed with zod; tokens and the client secret
 * never reach a message.
 */
import ky from "ky";
import { z } from "zod";

/** What Keycloak answers for a registered client (snake_case OIDC metadata; more keys kept). */
export const RegisteredClient = z.object({
  client_id: z.string().min(1),
  client_secret: z.string().min(1),
  registration_access_token: z.string().min(1),
  registration_client_uri: z.url({ protocol: /^https?$/ }),
  redirect_uris: z.array(z.string()).optional(),
}).loose();
export type RegisteredClient = z.infer<typeof RegisteredClient>;

export type ClientResult =
  | { readonly ok: true; readonly client: RegisteredClient }
  /**
   * `gone`: the registration access token is no longer accepted (Keycloak answers 401 for a
   * deleted client); `unreachable`: network, timeout or 5xx; `refused`: another 4xx.
   */
  | {
    readonly ok: false;
    readonly kind: "gone" | "unreachable" | "refused" | "bad_reply";
    readonly message: string;
  };

export interface RegistrationApi {
  /** `POST {base}realms/{realm}/clients-registrations/openid-connect` with the initial token. */
  register(initialAccessToken: string, metadata: Record<string, unknown>): Promise<ClientResult>;
  /** `GET registration_client_uri` (does not rotate the registration access token). */
  read(client: RegisteredClient): Promise<ClientResult>;
  /** `PUT registration_client_uri` (answers with a new registration access token). */
  update(client: RegisteredClient, metadata: Record<string, unknown>): Promise<ClientResult>;
}

export interface RegistrationApiOptions {
  /** Keycloak's base URL, ending in `/` (`https://{KCDOMAIN}:9443/`). */
  readonly baseUrl: string;
  readonly realm: string;
  /** CA certificates trusted besides the system store. */
  readonly caPems: () => Promise<readonly string[]>;
  /** Per-request timeout. @default 15000 */
  readonly timeoutMs?: number;
}

export function createRegistrationApi(o: RegistrationApiOptions): RegistrationApi {
  const registerUrl = new URL(
    `realms/${encodeURIComponent(o.realm)}/clients-registrations/openid-connect`,
    o.baseUrl,
  );

  async function call(
    method: "GET" | "POST" | "PUT",
    url: URL,
    bearer: string,
    body?: Record<string, unknown>,
  ): Promise<ClientResult> {
    const client = Deno.createHttpClient({ caCerts: [...await o.caPems()] });
    const where = `${method} ${url.pathname} on ${url.host}`;
    try {
      const res = await ky(url, {
        method,
        headers: { authorization: `Bearer ${bearer}`, accept: "application/json" },
        ...(body === undefined ? {} : { json: body }),
        timeout: o.timeoutMs ?? 15_000,
        retry: 0,
        throwHttpErrors: false,
        fetch: (input, init) => fetch(input, { ...init, client }),
      });
      const text = await res.text();
      if (!res.ok) {
        const kind = res.status === 401
          ? "gone"
          : res.status >= 500 || res.status === 429
          ? "unreachable"
          : "refused";
        return { ok: false, kind, message: `${where} answered HTTP ${res.status}${_error(text)}` };
      }
      const parsed = RegisteredClient.safeParse(_json(text));
      if (!parsed.success) {
        const fields = parsed.error.issues.map((i) => i.path.join(".") || "(root)").join(", ");
        return {
          ok: false,
          kind: "bad_reply",
          message: `${where} answered an unexpected shape (${fields})`,
        };
      }
      return { ok: true, client: parsed.data };
    } catch (err) {
      return {
        ok: false,
        kind: "unreachable",
        message: `cannot reach ${url.origin}: ${(err as Error).message}`,
      };
    } finally {
      client.close();
    }
  }

  return {
    register: (iat, metadata) => call("POST", registerUrl, iat, metadata),
    read: (c) => call("GET", new URL(c.registration_client_uri), c.registration_access_token),
    update: (c, metadata) =>
      call("PUT", new URL(c.registration_client_uri), c.registration_access_token, metadata),
  };
}

function _json(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Keycloak's `{"error": …, "error_description": …}`, shortened; it names no secret. */
function _error(text: string): string {
  const e = z.object({ error: z.string(), error_description: z.string().optional() }).safeParse(
    _json(text),
  );
  if (!e.success) return "";
  const said = [e.data.error, e.data.error_description].filter((x) => x !== undefined).join(": ");
  return `: ${JSON.stringify(said.replace(/[^\x20-\x7e]/g, "?").slice(0, 200))}`;
}
