/**
 * @module The login callback Synapse itself sends to the identity provider, learnt from Synapse
 * (not from our configuration): its SSO redirect names either its canonical public URL (when
 * asked on another host, as we do on `SYNAPSE_URL`) or the provider's authorisation URL with the
 * `redirect_uri` in it.
 */
import { z } from "zod";

const LoginFlows = z.object({
  flows: z.array(z.object({
    type: z.string(),
    identity_providers: z.array(z.object({ id: z.string() })).optional(),
  })),
});

const CALLBACK_PATH = "_synapse/client/oidc/callback";
const REDIRECT_PATH = "/_matrix/client/v3/login/sso/redirect/";

export interface SsoCallbackOptions {
  /** Synapse's internal URL (`SYNAPSE_URL`), without a trailing slash. */
  readonly baseUrl: string;
  /** @default 5000 */
  readonly timeoutMs?: number;
}

/**
 * The `redirect_uri` Synapse sends for its first OIDC provider, or `null` when Synapse is not up,
 * offers no OIDC provider, or answers in a shape this does not know (nothing is guessed).
 */
export async function synapseSsoCallback(o: SsoCallbackOptions): Promise<string | null> {
  const timeout = o.timeoutMs ?? 5000;
  try {
    const flows = LoginFlows.safeParse(
      await (await fetch(`${o.baseUrl}/_matrix/client/v3/login`, {
        signal: AbortSignal.timeout(timeout),
      })).json(),
    );
    if (!flows.success) return null;
    const idp = flows.data.flows.flatMap((f) => f.identity_providers ?? [])
      .find((p) => p.id.startsWith("oidc"));
    if (idp === undefined) return null;
    const res = await fetch(
      `${o.baseUrl}${REDIRECT_PATH}${encodeURIComponent(idp.id)}?redirectUrl=${
        encodeURIComponent("http://localhost/")
      }`,
      { redirect: "manual", signal: AbortSignal.timeout(timeout) },
    );
    await res.body?.cancel();
    const location = res.headers.get("location");
    if (res.status < 300 || res.status >= 400 || location === null) return null;
    return callbackFromRedirect(location);
  } catch {
    return null;
  }
}

/**
 * The callback a redirect of Synapse's SSO endpoint implies: Synapse's own canonical URL
 * (`<public_baseurl>_matrix/client/v3/login/sso/redirect/…`) gives `<public_baseurl>` + the
 * callback path; a provider's authorisation URL carries it as `redirect_uri`.
 */
export function callbackFromRedirect(location: string): string | null {
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    return null;
  }
  const given = url.searchParams.get("redirect_uri");
  if (given !== null) return given.endsWith(`/${CALLBACK_PATH}`) ? given : null;
  const at = url.href.indexOf(REDIRECT_PATH.slice(1));
  if (at < 0 || !/^https?:$/.test(url.protocol)) return null;
  return `${url.href.slice(0, at)}${CALLBACK_PATH}`;
}
