/**
 * @module Structured logging: ECS-style JSON lines or a human-readable local format, with
 * secrets redacted by field name before anything is written.
 */

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFormat = "ecs" | "local";
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line it writes. */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  /** Lines below this level are dropped. @default "info" */
  level?: LogLevel;
  /** @default "ecs" */
  format?: LogFormat;
  /** Where finished lines go. @default a writer to stderr */
  sink?: (line: string, level: LogLevel) => void;
  /** Fields added to every line. */
  base?: LogFields;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

// Any field whose name looks like it carries a credential is replaced, however deep it sits.
const SECRET_NAME = /token|secret|password|passwd|authorization|cookie|mac|private_?key|^key$/i;
const REDACTED = "[redacted]";

/** Returns a copy of `value` with credential-like fields replaced by `[redacted]`. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 6 || value === null || typeof value !== "object") return value;
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Error) {
    return { name: value.name, message: value.message };
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_NAME.test(k) ? REDACTED : redact(v, depth + 1);
  }
  return out;
}

const encoder = new TextEncoder();
function _stderrSink(line: string): void {
  Deno.stderr.writeSync(encoder.encode(line + "\n"));
}

/** Builds a logger; nothing is global, every component receives the logger it should use. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const min = RANK[options.level ?? "info"];
  const format = options.format ?? "ecs";
  const sink = options.sink ?? _stderrSink;
  const base = options.base ?? {};

  function write(level: LogLevel, message: string, fields: LogFields | undefined): void {
    if (RANK[level] < min) return;
    const merged = redact({ ...base, ...fields }) as LogFields;
    sink(
      format === "ecs" ? _ecsLine(level, message, merged) : _localLine(level, message, merged),
      level,
    );
  }

  return {
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
    child: (fields) => createLogger({ ...options, base: { ...base, ...fields } }),
  };
}

function _ecsLine(level: LogLevel, message: string, fields: LogFields): string {
  return JSON.stringify({
    "@timestamp": new Date().toISOString(),
    "log.level": level,
    message,
    "service.name": "matrixrmapi",
    ...fields,
  });
}

function _localLine(level: LogLevel, message: string, fields: LogFields): string {
  const extra = Object.entries(fields)
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" ");
  const time = new Date().toISOString().slice(11, 23);
  return `${time} ${level.toUpperCase().padEnd(5)} ${message}${extra ? " " + extra : ""}`;
}

/** A logger that keeps its lines in memory; for tests that assert on what was logged. */
export function createMemoryLogger(level: LogLevel = "debug"): Logger & { lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger({ level, format: "ecs", sink: (line) => lines.push(line) });
  return Object.assign(logger, { lines });
}
