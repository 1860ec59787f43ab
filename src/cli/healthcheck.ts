/**
 * @module `matrixrmapi healthcheck`: the container health probe. Needs no shell, no curl: exit 0
 * only for HTTP 200 with `healthy: true`.
 */
import { z } from "zod";

export interface HealthcheckOptions {
  /** @default "localhost" */
  readonly host?: string;
  /** @default 8012 */
  readonly port?: number;
  /** @default 2000 */
  readonly timeoutMs?: number;
}

const Report = z.object({ healthy: z.boolean(), extra: z.string().nullable().optional() });

/** Returns the exit code and one line to print. */
export async function runHealthcheck(
  options: HealthcheckOptions = {},
): Promise<{ code: 0 | 1; message: string }> {
  const host = options.host ?? "localhost";
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${options.port ?? 8012}` +
    "/api/v1/healthcheck";
  try {
    const response = await fetch(url, {
      signal: AbortSignal.timeout(options.timeoutMs ?? 2000),
    });
    const text = await response.text();
    if (response.status !== 200) {
      return { code: 1, message: `unhealthy: ${url} answered HTTP ${response.status}` };
    }
    const parsed = Report.safeParse(_json(text));
    if (!parsed.success) {
      return { code: 1, message: `unhealthy: ${url} answered an unexpected body` };
    }
    const extra = parsed.data.extra ? ` (${parsed.data.extra})` : "";
    return parsed.data.healthy
      ? { code: 0, message: `healthy${extra}` }
      : { code: 1, message: `unhealthy${extra}` };
  } catch (err) {
    return { code: 1, message: `unhealthy: cannot reach ${url}: ${(err as Error).message}` };
  }
}

function _json(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
