/**
 * @module Turns a language's content (`guide.ts`, `lang/*.ts`) and the deployment's facts into
 * text: Markdown for the info page, plain text for the v1 instructions, and a small HTML form for
 * the deprecated admin fragment. Placeholders are filled here and nowhere else.
 */
import type { RoomKey } from "../../matrix/deployment.ts";
import { roomText } from "../../matrix/deployment.ts";
import type { Language } from "./language.ts";
import {
  ADMIN_SECTIONS,
  type Block,
  type LanguagePack,
  type Placeholder,
  type Section,
  SECTION_KEYS,
} from "./guide.ts";

/** What the texts say about this deployment and this person. */
export interface PageFacts {
  readonly homeserverUrl: string;
  readonly serverName: string;
  readonly deployment: string;
  readonly botUserId: string;
  readonly aliases: Readonly<Record<RoomKey, string>>;
  /** The person's Matrix ID; `null` for texts that are not about one person. */
  readonly userId: string | null;
}

export const ELEMENT_DOWNLOAD_URL = "https://element.io/download";
export const ELEMENT_WEB_URL = "https://app.element.io";

/** The ecosystem's Matrix guide for a language (the v2 description's `docs` too). */
export function matrixGuideUrl(lang: Language): string {
  return `https://docs.pvarki.fi/${lang}/docs/guides/matrix-guide`;
}

/** `#room:server` → a matrix.to link that opens the room in the person's Matrix app. */
export function matrixToUrl(alias: string): string {
  return "https://matrix.to/#/" + alias.replaceAll("#", "%23");
}

/** How one output format writes literal text, emphasis, code and links. */
interface Style {
  readonly literal: (s: string) => string;
  readonly escape: (s: string) => string;
  readonly bold: (s: string) => string;
  readonly code: (s: string) => string;
  /** `room`: the label is a room alias (code in Markdown, the bare alias in plain text). */
  readonly link: (label: string, href: string, room: boolean) => string;
}

const MARKDOWN: Style = {
  literal: (s) => s,
  escape: mdEscape,
  bold: (s) => `**${s}**`,
  code: mdCode,
  link: (label, href, room) => `[${room ? mdCode(label) : mdEscape(label)}](${href})`,
};

const TEXT: Style = {
  literal: (s) => s,
  escape: (s) => s,
  bold: (s) => s,
  code: (s) => s,
  link: (label, href, room) => room ? label : href,
};

const HTML: Style = {
  literal: htmlEscape,
  escape: htmlEscape,
  bold: (s) => `<strong>${s}</strong>`,
  code: (s) => `<code>${htmlEscape(s)}</code>`,
  link: (label, href, room) =>
    `<a href="${htmlEscape(href)}">${
      room ? `<code>${htmlEscape(label)}</code>` : htmlEscape(label)
    }</a>`,
};

type Values = Readonly<Record<Placeholder, () => string>>;

function _values(lang: Language, f: PageFacts, callsign: string | null, s: Style): Values {
  const room = (key: RoomKey) => () => s.link(f.aliases[key], matrixToUrl(f.aliases[key]), true);
  const name = (key: RoomKey) => () => s.escape(roomText(key, f.deployment).name ?? f.aliases[key]);
  const known = <T>(value: T | null, what: string): T => {
    if (value === null) throw new Error(`This text needs ${what}, which it was not given`);
    return value;
  };
  return {
    callsign: () => s.escape(known(callsign, "the callsign")),
    homeserver: () => s.code(f.homeserverUrl),
    userId: () => s.code(known(f.userId, "a Matrix ID")),
    serverName: () => s.code(f.serverName),
    bot: () => s.code(f.botUserId),
    space: room("space"),
    general: room("general"),
    helpdesk: room("helpdesk"),
    offtopic: room("offtopic"),
    admin: room("admin"),
    spaceName: name("space"),
    generalName: name("general"),
    helpdeskName: name("helpdesk"),
    offtopicName: name("offtopic"),
    adminName: name("admin"),
    elementDownload: () => s.link("element.io/download", ELEMENT_DOWNLOAD_URL, false),
    elementWeb: () => s.link("app.element.io", ELEMENT_WEB_URL, false),
    docs: () => s.link(matrixGuideUrl(lang).replace("https://", ""), matrixGuideUrl(lang), false),
  };
}

/** Fills one content string: `**…**` becomes the style's emphasis, `{name}` its value. */
function _fill(template: string, s: Style, values: Values): string {
  return template.split("**").map((part, i) => {
    const filled = part.split(/(\{[^{}]*\})/).map((piece) => {
      const m = /^\{(\w+)\}$/.exec(piece);
      if (m === null) {
        if (/[{}]/.test(piece)) throw new Error(`Malformed placeholder in ${JSON.stringify(part)}`);
        return s.literal(piece);
      }
      const value = (values as Record<string, () => string>)[m[1]!];
      if (value === undefined) throw new Error(`Unknown placeholder {${m[1]}}`);
      return value();
    }).join("");
    return i % 2 === 1 ? s.bold(filled) : filled;
  }).join("");
}

function _sections(pack: LanguagePack, admin: boolean): Section[] {
  return SECTION_KEYS.filter((k) => admin || !ADMIN_SECTIONS.has(k)).map((k) => pack.sections[k]);
}

function _mdBlock(block: Block, fill: (t: string) => string): string {
  if (typeof block === "string") return fill(block);
  if ("list" in block) return block.list.map((item) => `- ${fill(item)}`).join("\n");
  return block.steps.map((step, n) => `${n + 1}. ${fill(step)}`).join("\n");
}

/**
 * The whole info page as Markdown: title (unless `title: false`), greeting, intro, then every
 * section in order.
 */
export function renderMarkdown(
  lang: Language,
  pack: LanguagePack,
  f: PageFacts,
  callsign: string,
  admin: boolean,
  options: { title?: boolean } = {},
): string {
  const values = _values(lang, f, callsign, MARKDOWN);
  const fill = (t: string) => _fill(t, MARKDOWN, values);
  const out = [
    ...(options.title ?? true ? [`# ${fill(pack.title)}`] : []),
    fill(pack.hello),
    fill(pack.intro),
  ];
  for (const section of _sections(pack, admin)) {
    out.push(`## ${fill(section.heading)}`, ...section.blocks.map((b) => _mdBlock(b, fill)));
  }
  return out.join("\n\n") + "\n";
}

/** Content strings as plain text (no markup; links as URLs, rooms as aliases). */
export function renderText(lang: Language, f: PageFacts, texts: readonly string[]): string[] {
  const values = _values(lang, f, null, TEXT);
  return texts.map((t) => _fill(t, TEXT, values));
}

/** One section as a small HTML fragment (the deprecated admin fragment's form). */
export function renderSectionHtml(lang: Language, section: Section, f: PageFacts): string {
  const values = _values(lang, f, null, HTML);
  const fill = (t: string) => _fill(t, HTML, values);
  const blocks = section.blocks.map((b) => {
    if (typeof b === "string") return `<p>${fill(b)}</p>`;
    const [tag, items] = "list" in b ? ["ul", b.list] : ["ol", b.steps];
    return `<${tag}>${items.map((i) => `<li>${fill(i)}</li>`).join("")}</${tag}>`;
  });
  return `<h3>${fill(section.heading)}</h3>${blocks.join("")}`;
}

/**
 * Markdown escape for text we do not write ourselves (the callsign): every character that could
 * start markup or HTML gets a backslash, and line breaks and other control characters become
 * spaces, so the text stays inline and can never open a heading, list or block.
 */
export function mdEscape(text: string): string {
  return text
    .replace(/[\p{Cc}\u2028\u2029]+/gu, " ")
    .replace(/[\\`*_{}\[\]<>()#+!|~&]/g, (c) => "\\" + c);
}

/** An inline code span that holds `text` as it is, whatever backticks it contains. */
function mdCode(text: string): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(longest + 1);
  return longest === 0 ? `${fence}${text}${fence}` : `${fence} ${text} ${fence}`;
}

/** A small HTML escape for the deprecated HTML fragments. */
export function htmlEscape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
