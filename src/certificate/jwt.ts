/**
 * @module What the service may read from the manifest's `csr_jwt` without RM's keys: its expiry,
 * to explain a refusal before spending a request. Nothing here trusts the token; RM verifies it.
 */
import { z } from "zod";

const Claims = z.object({ exp: z.number().finite() }).loose();

/** The `exp` claim of a JWT as a Date, or `null` when the token does not say (or is not a JWT). */
export function csrJwtExpiry(jwt: string): Date | null {
  const payload = jwt.split(".")[1];
  if (payload === undefined) return null;
  try {
    const json = atob(
      payload.replaceAll("-", "+").replaceAll("_", "/").padEnd(
        Math.ceil(payload.length / 4) * 4,
        "=",
      ),
    );
    const claims = Claims.safeParse(JSON.parse(json));
    return claims.success ? new Date(claims.data.exp * 1000) : null;
  } catch {
    return null;
  }
}
