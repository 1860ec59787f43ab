/** @module `status` and `reconcile`: the operator's view of a running service, from its host. */

export interface Remote {
  readonly host: string;
  readonly port: number;
  readonly timeoutMs: number;
}

const base = (r: Remote) => `http://${r.host.includes(":") ? `[${r.host}]` : r.host}:${r.port}`;

/** The status endpoint, for a person: exit 0 when ready and nothing is failing. */
export async function runStatus(r: Remote): Promise<{ code: 0 | 1; message: string }> {
  try {
    const res = await fetch(`${base(r)}/api/v1/status`, {
      signal: AbortSignal.timeout(r.timeoutMs),
    });
    const s = await res.json();
    const b = s.bootstrap;
    const l = s.lifecycle;
    const lines = [
      `bootstrap: ${b.phase} since ${b.since} (attempt ${b.attempt})`,
      ...(b.last_error ? [`  last error: ${b.last_error}`] : []),
      `bot: ${b.bot_user_id}`,
      ...Object.entries(b.rooms ?? {}).map(([k, v]) => `  ${k.padEnd(9)} ${v}`),
      `pending: ${l?.pending ?? "?"}${
        l?.oldest_pending_age_seconds ? ` (oldest ${l.oldest_pending_age_seconds} s)` : ""
      }`,
      ...(l?.users ?? []).slice(0, 20).map((u: Record<string, unknown>) =>
        `  ${u.user_id}: ${u.waiting_for ?? u.last_error ?? "in progress"} (attempts ${u.attempts})`
      ),
    ];
    const failing = b.phase !== "ready" ||
      (l?.users ?? []).some((u: Record<string, unknown>) => u.last_error);
    return { code: failing ? 1 : 0, message: lines.join("\n") };
  } catch (err) {
    return { code: 1, message: `cannot read the status at ${base(r)}: ${(err as Error).message}` };
  }
}

/** Asks the service to reconcile now (it accepts this from its own host only). */
export async function runReconcile(
  r: Remote & { dryRun: boolean },
): Promise<{ code: 0 | 1; message: string }> {
  try {
    const res = await fetch(`${base(r)}/api/v1/reconcile`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ dry_run: r.dryRun }),
      signal: AbortSignal.timeout(r.timeoutMs),
    });
    const body = await res.json();
    if (!res.ok) {
      return { code: 1, message: `reconcile refused: HTTP ${res.status}: ${body.error}` };
    }
    const head = `${body.dry_run ? "would change" : "changed"} ${body.changes.length} wishes, ` +
      `${body.drift_corrections} room corrections, from ${body.people} people`;
    const lines = body.changes.map((c: Record<string, string>) => `  ${c.action} ${c.user_id}`);
    return {
      code: body.ok ? 0 : 1,
      message: body.ok ? [head, ...lines].join("\n") : `failed: ${body.error}`,
    };
  } catch (err) {
    return { code: 1, message: `cannot reach ${base(r)}: ${(err as Error).message}` };
  }
}
