import assert from "node:assert/strict";
import { testConfig } from "../support/config.ts";
import { deploymentFacts, userIdOf } from "../../src/http/content/facts.ts";
import { LANGUAGES } from "../../src/http/content/language.ts";
import {
  ADMIN_SECTIONS,
  type Block,
  type LanguagePack,
  SECTION_KEYS,
} from "../../src/http/content/guide.ts";
import {
  adminFragmentHtml,
  infoMarkdown,
  type LoginFacts,
  loginInstructions,
  PACKS,
} from "../../src/http/content/texts.ts";
import { matrixToUrl, mdEscape, renderText } from "../../src/http/content/render.ts";

const HOSTILE = "*_[x](javascript:alert(1))<b>";
const ESCAPED = "\\*\\_\\[x\\]\\(javascript:alert\\(1\\)\\)\\<b\\>";

async function _facts(callsign: string, admin: boolean): Promise<LoginFacts> {
  const facts = deploymentFacts(await testConfig());
  return {
    homeserverUrl: facts.homeserverUrl,
    serverName: facts.serverName,
    deployment: facts.deployment,
    botUserId: facts.botUserId,
    aliases: facts.aliases,
    userId: userIdOf(callsign, facts),
    admin,
  };
}

/** Every content string of a pack, with where it is. */
function _strings(pack: LanguagePack): Array<[string, string]> {
  const out: Array<[string, string]> = [["title", pack.title], ["hello", pack.hello]];
  out.push(
    ["intro", pack.intro],
    ...pack.notes.map((n, i) => [`notes.${i}`, n] as [string, string]),
  );
  out.push(...pack.adminNotes.map((n, i) => [`adminNotes.${i}`, n] as [string, string]));
  for (const key of SECTION_KEYS) {
    const s = pack.sections[key];
    out.push([`${key}.heading`, s.heading]);
    s.blocks.forEach((b, i) => {
      const items = typeof b === "string" ? [b] : "list" in b ? b.list : b.steps;
      items.forEach((t, j) => out.push([`${key}.${i}.${j}`, t]));
    });
  }
  return out;
}

const _shape = (b: Block) =>
  typeof b === "string" ? "p" : "list" in b ? `list×${b.list.length}` : `steps×${b.steps.length}`;

Deno.test("every language has every section, with the same block structure as English", () => {
  const english = PACKS.en;
  for (const lang of LANGUAGES) {
    const pack = PACKS[lang];
    assert.deepEqual(Object.keys(pack.sections).sort(), [...SECTION_KEYS].sort(), lang);
    for (const key of SECTION_KEYS) {
      const section = pack.sections[key];
      assert.ok(section.heading.trim().length > 0, `${lang} ${key}: heading`);
      assert.ok(section.blocks.length > 0, `${lang} ${key}: no content`);
      assert.deepEqual(
        section.blocks.map(_shape),
        english.sections[key].blocks.map(_shape),
        `${lang} ${key}: blocks differ from English`,
      );
    }
    assert.equal(pack.notes.length, english.notes.length, `${lang}: notes`);
    assert.equal(pack.adminNotes.length, english.adminNotes.length, `${lang}: adminNotes`);
    for (const [where, text] of _strings(pack)) {
      assert.ok(text.trim().length > 0, `${lang} ${where}: empty`);
      assert.doesNotMatch(text, /</, `${lang} ${where}: raw HTML`);
      assert.equal(text.split("**").length % 2, 1, `${lang} ${where}: unbalanced **`);
    }
    for (const field of ["title", "description", "adminDescription"] as const) {
      assert.doesNotMatch(pack.product[field], /[{}<]/, `${lang} product.${field}`);
    }
  }
});

for (const lang of LANGUAGES) {
  for (const admin of [false, true]) {
    const variant = admin ? "admin" : "person";
    Deno.test(`info page (${lang}, ${variant}): filled, linked, escaped, no HTML`, async () => {
      const f = await _facts(HOSTILE, admin);
      const md = infoMarkdown(lang, HOSTILE, f);
      assert.doesNotMatch(md, /[{}]/, "a placeholder was left unfilled");
      assert.ok(md.includes(f.homeserverUrl), "homeserver URL");
      assert.ok(md.includes(f.userId), "Matrix ID");
      assert.ok(f.userId.startsWith("@=2a_=5bx=5d=28javascript=3aalert"), f.userId);
      for (const key of ["space", "general", "helpdesk", "offtopic"] as const) {
        const link = `](https://matrix.to/#/%23${f.aliases[key].slice(1)})`;
        assert.ok(md.includes(link), `${key} as a matrix.to link`);
      }
      const adminLink = `(${matrixToUrl(f.aliases.admin)})`;
      assert.equal(md.includes(adminLink), admin, "the admin room's link only for admins");
      // Every "<" is escaped text, never a tag; the callsign cannot become a link or emphasis.
      assert.doesNotMatch(md, /(?<!\\)</, "raw HTML");
      assert.ok(md.includes(ESCAPED), "the callsign, escaped");
      assert.ok(!md.includes("](javascript:"), "a javascript: link");
      // One heading per section shown, in the shared order.
      const shown = SECTION_KEYS.filter((k) => admin || !ADMIN_SECTIONS.has(k));
      const headings = [...md.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
      assert.deepEqual(headings, shown.map((k) => PACKS[lang].sections[k].heading));
      assert.equal([...md.matchAll(/^# /gm)].length, 1, "one title");
    });

    Deno.test(`v1 instructions (${lang}, ${variant}) are plain text with the facts`, async () => {
      const f = await _facts("ROTTA01a", admin);
      const i = loginInstructions(lang, f);
      const all = [i.title, ...i.steps, ...i.notes].join("\n");
      assert.doesNotMatch(all, /[{}<`]|\*\*|\]\(/, "markup or a placeholder in plain text");
      assert.ok(i.steps.some((s) => s.includes(f.homeserverUrl)), "homeserver URL in a step");
      assert.ok(i.steps.some((s) => s.includes(f.userId)), "Matrix ID in a step");
      assert.ok(i.steps.length >= 5, "the first-login steps");
      assert.equal(all.includes(f.aliases.admin), admin, "the admin room only for admins");
    });
  }
}

Deno.test("the admin fragment is HTML built from the admin section, text escaped", async () => {
  const f = await _facts("ROTTA01a", true);
  const html = adminFragmentHtml("en", { ...f, userId: null });
  assert.match(html, /^<h3>For Deploy App admins<\/h3><ul><li>/);
  assert.ok(html.includes(`href="${matrixToUrl(f.aliases.admin)}"`));
  assert.ok(html.includes(f.botUserId));
  assert.doesNotMatch(html, /[{}]|\*\*/);
  assert.ok(html.includes("admins&#39; own room"), "apostrophes escaped");
});

Deno.test("an unknown or malformed placeholder is an error, not silent text", async () => {
  const f = await _facts("ROTTA01a", false);
  assert.throws(() => renderText("en", f, ["see {nowhere}"]), /Unknown placeholder \{nowhere\}/);
  assert.throws(() => renderText("en", f, ["see {half"]), /Malformed placeholder/);
  assert.throws(() => renderText("en", f, ["hi {callsign}"]), /needs the callsign/);
  assert.throws(
    () => renderText("en", { ...f, userId: null }, ["{userId}"]),
    /needs a Matrix ID/,
  );
});

Deno.test("the Markdown escape keeps a callsign inline and inert", () => {
  assert.equal(mdEscape("A\n# B\r\n- C"), "A \\# B - C");
  assert.equal(mdEscape("R&D_1"), "R\\&D\\_1");
  assert.equal(mdEscape("ROTTA01a"), "ROTTA01a");
});
