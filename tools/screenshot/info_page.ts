// deno-lint-ignore-file no-console
/**
 * @module Screenshot of the info page as RM's web UI would show it, for docs/operations/page.md: the page's
 * Markdown (exactly what `POST /api/v2/clients/{lang}/info.md` answers, for an example deployment
 * and person) rendered to HTML by `marked`, in a card like RM's product page, photographed by
 * headless Chromium (Debian's `chromium` package: `apt-get install -y chromium`).
 *
 *   tools/deno/deno run -A tools/screenshot/info_page.ts [--lang en|fi|sv] [--admin] [--out FILE]
 *
 * Defaults: English, the person's page, `docs/info-page-<lang>.png`. Two Chromium runs: the first
 * measures the page's height, the second takes the picture at exactly that height.
 */
import { marked } from "npm:marked@18.2.1";
import { parseArgs } from "node:util";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { infoMarkdown, type LoginFacts } from "../../src/http/content/texts.ts";
import { type Language, LANGUAGES } from "../../src/http/content/language.ts";
import { ROOM_KEYS, roomAlias } from "../../src/matrix/deployment.ts";
import { callsignToUserId } from "../../src/matrix/mxid.ts";

const WIDTH = 900;
const DEPLOYMENT = "golden-monkey";
const SERVER = "golden-monkey.dev.example.fi";
const CALLSIGN = "ROTTA01a";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    lang: { type: "string", default: "en" },
    admin: { type: "boolean", default: false },
    out: { type: "string" },
  },
});
const lang = values.lang as Language;
if (!LANGUAGES.includes(lang)) throw new Error(`--lang must be one of ${LANGUAGES.join(", ")}`);
const name = `info-page-${lang}${values.admin ? "-admin" : ""}.png`;
const out = values.out === undefined
  ? fileURLToPath(new URL(`../../docs/${name}`, import.meta.url))
  : resolve(values.out);

const mapped = callsignToUserId(CALLSIGN, SERVER);
if (!mapped.ok) throw new Error(mapped.reason);
const facts: LoginFacts = {
  homeserverUrl: `https://synapse.${SERVER}/`,
  serverName: SERVER,
  deployment: DEPLOYMENT,
  botUserId: `@matrixrmapi-bot:${SERVER}`,
  aliases: Object.fromEntries(
    ROOM_KEYS.map((k) => [k, roomAlias(DEPLOYMENT, k, SERVER)]),
  ) as LoginFacts["aliases"],
  userId: mapped.userId,
  admin: values.admin,
};

const markdown = infoMarkdown(lang, CALLSIGN, facts);
const body = await marked.parse(markdown, { gfm: true, async: true });

// A product page in a web UI: a grey background, a white card with a header bar, system fonts.
const CSS = `
  * { box-sizing: border-box; }
  html, body { margin: 0; background: #eef1f4; }
  body { font: 15px/1.55 "DejaVu Sans", system-ui, sans-serif; color: #1f2933; padding: 28px; }
  .bar { display: flex; align-items: center; gap: 10px; margin: 0 0 16px; color: #52606d;
    font-size: 13px; }
  .bar b { color: #1f2933; font-size: 15px; }
  .card { background: #fff; border-radius: 10px; box-shadow: 0 1px 3px rgba(0,0,0,.12);
    padding: 8px 36px 28px; }
  h1 { font-size: 26px; margin: 24px 0 8px; }
  h2 { font-size: 19px; margin: 28px 0 8px; padding-top: 16px; border-top: 1px solid #e4e7eb; }
  p, li { margin: 6px 0; }
  ul, ol { padding-left: 24px; }
  a { color: #0b6bcb; text-decoration: none; }
  code { font: 13px "DejaVu Sans Mono", monospace; background: #f0f2f5; padding: 1px 5px;
    border-radius: 4px; overflow-wrap: anywhere; }
  a code { color: #0b6bcb; }
`;
const html = `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><title>info.md</title><style>${CSS}</style>
</head><body>
<div class="bar"><b>Deploy App</b> › Matrix (${lang}${values.admin ? ", admin" : ""})</div>
<main class="card">${body}</main>
<script>document.title = "h=" + document.documentElement.scrollHeight;</script>
</body></html>`;

const dir = await Deno.makeTempDir({ prefix: "info-page-" });
try {
  const page = `${dir}/page.html`;
  await Deno.writeTextFile(page, html);
  const url = `file://${page}`;
  const measured = await chromium(dir, ["--dump-dom", `--window-size=${WIDTH},2400`, url]);
  const height = Number(/<title>h=(\d+)<\/title>/.exec(measured)?.[1]);
  if (!Number.isFinite(height) || height <= 0) throw new Error("could not measure the page");
  await Deno.mkdir(dirname(out), { recursive: true });
  await chromium(dir, [
    `--screenshot=${out}`,
    `--window-size=${WIDTH},${height}`,
    "--hide-scrollbars",
    url,
  ]);
  console.error(`wrote ${out} (${WIDTH}×${height}, ${lang}${values.admin ? ", admin" : ""})`);
} finally {
  await Deno.remove(dir, { recursive: true });
}

/** One headless Chromium run with a fresh profile and no network chatter; returns stdout. */
async function chromium(dir: string, args: string[]): Promise<string> {
  const profile = await Deno.makeTempDir({ dir, prefix: "profile-" });
  const result = await new Deno.Command("chromium", {
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      `--user-data-dir=${profile}`,
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!result.success) {
    throw new Error(`chromium failed: ${new TextDecoder().decode(result.stderr).slice(-2000)}`);
  }
  return new TextDecoder().decode(result.stdout);
}
