/** @module `interop list` and `interop revoke <certcn>`: the operator's hold on the grants, from the service's host. */
import type { Remote } from "./remote.ts";

const base = (r: Remote) => `http://${r.host.includes(":") ? `[${r.host}]` : r.host}:${r.port}`;

export async function runInterop(
  r: Remote & { action: "list" | "revoke"; certcn: string | null },
): Promise<{ code: 0 | 1; message: string }> {
  const url = r.action === "list"
    ? `${base(r)}/api/v1/interop/grants`
    : `${base(r)}/api/v1/interop/grants/${encodeURIComponent(r.certcn ?? "")}`;
  try {
    const res = await fetch(url, {
      method: r.action === "list" ? "GET" : "DELETE",
      signal: AbortSignal.timeout(r.timeoutMs),
    });
    const body = await res.json();
    if (!res.ok) {
      return { code: 1, message: `interop ${r.action} refused: HTTP ${res.status}: ${body.error}` };
    }
    if (r.action === "revoke") {
      return { code: 0, message: `revoked the interop grant of ${r.certcn}` };
    }
    const grants = body.grants as Array<Record<string, string>>;
    const lines = grants.map((g) =>
      `${g.certcn}  granted ${g.granted_at} by ${g.granted_by}, last confirmed ${g.last_confirmed_at}, ` +
      `certificate ${g.serial} valid until ${g.not_after}`
    );
    return { code: 0, message: lines.length === 0 ? "no interop grants" : lines.join("\n") };
  } catch (err) {
    return { code: 1, message: `cannot reach ${base(r)}: ${(err as Error).message}` };
  }
}
