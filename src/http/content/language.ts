/** @module The languages we write content in, and how a requested tag falls back to one. */

export const LANGUAGES = ["fi", "sv", "en"] as const;
export type Language = typeof LANGUAGES[number];

/** `fi`, `FI`, `fi-FI` and `fi_FI` → `fi`; anything we do not write → `en`. */
export function pickLanguage(requested: string): Language {
  const primary = requested.toLowerCase().split(/[-_]/)[0] ?? "";
  return (LANGUAGES as readonly string[]).includes(primary) ? primary as Language : "en";
}
