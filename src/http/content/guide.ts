/**
 * @module The shape every language's content has: the product texts, the v1 instructions and the
 * info page's sections. One file per language implements `LanguagePack` (under `lang/`), so a
 * missing section is a type error; `render.ts` turns a pack plus the deployment's facts into text.
 *
 * Content strings are plain sentences with two kinds of markup, both resolved by the renderer:
 * - `{name}` placeholders, filled from the facts (see `PLACEHOLDERS`); an unknown name throws;
 * - `**bold**`, kept in Markdown and dropped in plain text.
 */

/** The info page's sections, in page order. `admin` is rendered for the admin variant only. */
export const SECTION_KEYS = [
  "details",
  "apps",
  "firstLogin",
  "rooms",
  "encryption",
  "messaging",
  "calls",
  "organise",
  "federation",
  "roles",
  "help",
  "admin",
] as const;
export type SectionKey = typeof SECTION_KEYS[number];

/** Sections only an admin's page has. */
export const ADMIN_SECTIONS: ReadonlySet<SectionKey> = new Set(["admin"]);

/**
 * Every placeholder a content string may use. Room placeholders (`{space}` …) become the alias as
 * a matrix.to link in Markdown; `{spaceName}` … are the names Element shows.
 */
export const PLACEHOLDERS = [
  "callsign",
  "homeserver",
  "userId",
  "serverName",
  "bot",
  "space",
  "general",
  "helpdesk",
  "offtopic",
  "admin",
  "spaceName",
  "generalName",
  "helpdeskName",
  "offtopicName",
  "adminName",
  "elementDownload",
  "elementWeb",
  "docs",
] as const;
export type Placeholder = typeof PLACEHOLDERS[number];

/** A paragraph, a bulleted list, or a numbered list of steps. */
export type Block =
  | string
  | { readonly list: readonly string[] }
  | { readonly steps: readonly string[] };

export interface Section {
  readonly heading: string;
  readonly blocks: readonly Block[];
}

export interface ProductTexts {
  readonly title: string;
  readonly description: string;
  readonly adminDescription: string;
}

export interface LanguagePack {
  /** RM's product lists (v1 and v2 descriptions); public, so no placeholders. */
  readonly product: ProductTexts;
  /** The page's (and the v1 instructions') title. */
  readonly title: string;
  /** The greeting line; `{callsign}` is the person's callsign, escaped. */
  readonly hello: string;
  readonly intro: string;
  readonly sections: { readonly [K in SectionKey]: Section };
  /** The v1 instructions' notes; the steps are `sections.firstLogin`'s. */
  readonly notes: readonly string[];
  readonly adminNotes: readonly string[];
}
