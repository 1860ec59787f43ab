/**
 * @module Rasenmaeher's people list (`GET {mtls base}api/v1/people/list?revoked=true`), fetched
 * with the product's own client certificate and parsed strictly: a partial or malformed answer
 * is a failure, never an empty truth.
 */
import { z } from "zod";

export const Person = z.object({
  callsign: z.string().min(1),
  roles: z.array(z.string()),
  extra: z.record(z.string(), z.unknown()).nullable(),
  revoked: z.string().nullable(),
});
export type Person = z.infer<typeof Person>;
const PeopleList = z.object({ callsign_list: z.array(Person) });

export type PeopleResult =
  | { readonly ok: true; readonly people: readonly Person[] }
  | { readonly ok: false; readonly error: string };

export interface RmClientOptions {
  readonly baseUri: string;
  readonly certPem: string;
  readonly keyPem: string;
  readonly caPems: readonly string[];
  /** @default 15000 */
  readonly timeoutMs?: number;
}

export async function fetchPeople(o: RmClientOptions): Promise<PeopleResult> {
  const client = Deno.createHttpClient({ caCerts: [...o.caPems], cert: o.certPem, key: o.keyPem });
  const url = new URL("api/v1/people/list?revoked=true", o.baseUri);
  try {
    const res = await fetch(url, { client, signal: AbortSignal.timeout(o.timeoutMs ?? 15_000) });
    const text = await res.text();
    if (!res.ok) return { ok: false, error: `${url.pathname} answered HTTP ${res.status}` };
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return { ok: false, error: `${url.pathname} answered something that is not JSON` };
    }
    const parsed = PeopleList.safeParse(json);
    if (!parsed.success) {
      return {
        ok: false,
        error: `${url.pathname} answered an unexpected shape: ${
          z.prettifyError(parsed.error).slice(0, 300)
        }`,
      };
    }
    return { ok: true, people: parsed.data.callsign_list };
  } catch (err) {
    return { ok: false, error: `cannot reach ${url.origin}: ${(err as Error).message}` };
  } finally {
    client.close();
  }
}
