/**
 * @module Log lines an attacker can cause (a refused connection, a handshake that timed out),
 * rate-limited per message so that logging cannot itself become the denial of service: at most
 * `burst` lines per message each `windowMs`; the next line after a quiet spell says how many
 * were left out (`suppressed`). The metrics count every one.
 */
import type { Logger } from "../log/logger.ts";

export interface NoticeOptions {
  /** Lines per message and window. @default 10 */
  readonly burst?: number;
  /** @default 10_000 */
  readonly windowMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

export type Notice = (
  level: "info" | "warn",
  message: string,
  fields: Record<string, unknown>,
) => void;

/** A rate-limited `log.info` / `log.warn`. */
export function createNotice(log: Logger, options: NoticeOptions = {}): Notice {
  const burst = options.burst ?? 10;
  const windowMs = options.windowMs ?? 10_000;
  const now = options.now ?? Date.now;
  const windows = new Map<string, { start: number; written: number; suppressed: number }>();
  return function notice(level, message, fields) {
    const at = now();
    let w = windows.get(message);
    if (w === undefined || at - w.start >= windowMs) {
      const suppressed = w?.suppressed ?? 0;
      w = { start: at, written: 0, suppressed: 0 };
      windows.set(message, w);
      if (suppressed > 0) fields = { ...fields, suppressed };
    }
    if (w.written >= burst) {
      w.suppressed++;
      return;
    }
    w.written++;
    log[level](message, fields);
  };
}
