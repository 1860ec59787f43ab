/** @module One way for tests to wait for something to become true: poll, with a deadline. */

/**
 * Polls `check` until it returns a value other than `undefined`, `null` or `false`, and returns
 * it; throws with `what` (and `detail()`, to say what was seen instead) once `timeoutMs` has passed.
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  options: { timeoutMs?: number; intervalMs?: number; detail?: () => unknown } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) {
      const detail = options.detail === undefined ? "" : `: ${JSON.stringify(options.detail())}`;
      throw new Error(`timed out waiting for ${what}${detail}`);
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 50));
  }
}
