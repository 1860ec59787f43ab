/**
 * @module Everything we say to people, in Finnish, Swedish and English: product descriptions,
 * login instructions, the info page and the deprecated admin fragment. The words live in
 * `lang/<language>.ts` (one file each, one shared shape in `guide.ts`); this module picks the
 * language and hands the facts to the renderer. No HTTP here.
 */
import type { Language } from "./language.ts";
import type { LanguagePack, ProductTexts } from "./guide.ts";
import {
  htmlEscape,
  type PageFacts,
  renderMarkdown,
  renderSectionHtml,
  renderText,
} from "./render.ts";
import { FI } from "./lang/fi.ts";
import { SV } from "./lang/sv.ts";
import { EN } from "./lang/en.ts";

export { htmlEscape };
export type { ProductTexts };

/** Every language's content; adding a language means one file and one line here. */
export const PACKS: Readonly<Record<Language, LanguagePack>> = { fi: FI, sv: SV, en: EN };

export const PRODUCT: Readonly<Record<Language, ProductTexts>> = {
  fi: FI.product,
  sv: SV.product,
  en: EN.product,
};

/** What the texts need to know about the deployment and one person. */
export interface LoginFacts extends PageFacts {
  readonly userId: string;
  /** The admin variant: the admin section, notes and room. */
  readonly admin: boolean;
}

export interface Instructions {
  readonly title: string;
  readonly steps: readonly string[];
  readonly notes: readonly string[];
}

/** The v1 instructions: the first-login steps and the short notes, as plain text. */
export function loginInstructions(lang: Language, f: LoginFacts): Instructions {
  const pack = PACKS[lang];
  const steps = pack.sections.firstLogin.blocks.flatMap((b) =>
    typeof b === "object" && "steps" in b ? b.steps : []
  );
  return {
    title: pack.title,
    steps: renderText(lang, f, steps),
    notes: renderText(lang, f, [...pack.notes, ...(f.admin ? pack.adminNotes : [])]),
  };
}

/** The info page as Markdown (RM's UI renders it for the `markdown` component). */
export function infoMarkdown(
  lang: Language,
  callsign: string,
  f: LoginFacts,
  options: { title?: boolean } = {},
): string {
  return renderMarkdown(lang, PACKS[lang], f, callsign, f.admin, options);
}

/** The admin section as a small HTML fragment (the deprecated `/api/v1/admins/fragment`). */
export function adminFragmentHtml(lang: Language, f: PageFacts): string {
  return renderSectionHtml(lang, PACKS[lang].sections.admin, f);
}
