/** @module Path helpers the service needs without `@std/path` (unreachable here). */

/** The directory part of a POSIX path: `/a/b.txt` → `/a`, `b.txt` → `.`, `/b` → `/`. */
export function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? (i === 0 ? "/" : ".") : path.slice(0, i);
}
