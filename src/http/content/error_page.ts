/**
 * @module What a person reads when the info page cannot be made. RM's web UI renders whatever
 * body the Markdown route answers, without looking at the status, so a failure there must read as
 * a page: a short localised explanation and what to do — never the JSON error body.
 */
import type { Language } from "./language.ts";

type Kind = "forbidden" | "invalid" | "unavailable" | "failed";

const DETAILS: Record<Language, string> = {
  en: "Details for the administrator",
  fi: "Tiedot ylläpitäjälle",
  sv: "Uppgifter för administratören",
};

const TEXTS: Record<Language, Record<Kind, readonly [string, string]>> = {
  en: {
    forbidden: [
      "This page is only shown through the deploy app.",
      "Open it from the deploy app's Matrix page while you are logged in there.",
    ],
    invalid: [
      "The deploy app asked for this page in a way the Matrix service does not understand.",
      "Reload the page; if this stays, tell your deployment's administrator.",
    ],
    unavailable: [
      "The Matrix service is starting or is busy right now.",
      "Try again in a minute.",
    ],
    failed: [
      "The Matrix service could not make this page.",
      "Try again in a minute; if this stays, tell your deployment's administrator.",
    ],
  },
  fi: {
    forbidden: [
      "Tämä sivu näytetään vain deploy appin kautta.",
      "Avaa se deploy appin Matrix-sivulta, kun olet kirjautuneena sinne.",
    ],
    invalid: [
      "Deploy app pyysi tätä sivua tavalla, jota Matrix-palvelu ei ymmärrä.",
      "Lataa sivu uudelleen; jos tämä toistuu, kerro asiasta ylläpitäjälle.",
    ],
    unavailable: ["Matrix-palvelu on käynnistymässä tai kiireinen.", "Yritä minuutin kuluttua."],
    failed: [
      "Matrix-palvelu ei pystynyt tekemään tätä sivua.",
      "Yritä minuutin kuluttua; jos tämä toistuu, kerro asiasta ylläpitäjälle.",
    ],
  },
  sv: {
    forbidden: [
      "Den här sidan visas bara via deploy appen.",
      "Öppna den från deploy appens Matrix-sida medan du är inloggad där.",
    ],
    invalid: [
      "Deploy appen bad om sidan på ett sätt som Matrix-tjänsten inte förstår.",
      "Ladda om sidan; om det fortsätter, kontakta administratören.",
    ],
    unavailable: ["Matrix-tjänsten startar eller är upptagen just nu.", "Försök igen om en minut."],
    failed: [
      "Matrix-tjänsten kunde inte skapa sidan.",
      "Försök igen om en minut; om det fortsätter, kontakta administratören.",
    ],
  },
};

function _kind(status: number): Kind {
  if (status === 401 || status === 403) return "forbidden";
  if (status === 503) return "unavailable";
  if (status >= 400 && status < 500) return "invalid";
  return "failed";
}

/**
 * The Markdown a person sees instead of an error with `status` (no title: RM's UI has one), with
 * the error's own message (never a secret) last, for whoever has to look into it.
 */
export function errorPageMarkdown(lang: Language, status: number, detail: string | null): string {
  const [what, todo] = TEXTS[lang][_kind(status)];
  const code = detail === null
    ? ""
    : `\n${DETAILS[lang]}: \`${detail.replace(/[`\r\n]/g, "'")}\`\n`;
  return `${what}\n\n${todo}\n${code}`;
}
