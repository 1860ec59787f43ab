/**
 * @module Everything we say to people, in Finnish, Swedish and English: product descriptions,
 * login instructions, and the info page. Plain data and small templates; no HTTP here.
 */
import type { Language } from "./language.ts";

export interface ProductTexts {
  readonly title: string;
  readonly description: string;
  readonly adminDescription: string;
}

export const PRODUCT: Record<Language, ProductTexts> = {
  fi: {
    title: "Matrix-viestit",
    description: "Salattu pikaviestintä ja puhelut Matrix-palvelimella. Kirjaudu Element-" +
      "sovellukseen Deploy App -tunnuksellasi: liityt automaattisesti joukon tilaan ja " +
      "yhteisiin huoneisiin.",
    adminDescription: "Ylläpitäjänä saat Matrixissa valvojan oikeudet joukon tilaan ja " +
      "huoneisiin sekä pääsyn ylläpitäjien huoneeseen. Oikeudet seuraavat Deploy Appin roolia.",
  },
  sv: {
    title: "Matrix-meddelanden",
    description: "Krypterade snabbmeddelanden och samtal på en Matrix-server. Logga in i " +
      "Element-appen med ditt Deploy App-konto: du ansluts automatiskt till truppens utrymme " +
      "och gemensamma rum.",
    adminDescription: "Som administratör får du moderatorbehörighet i truppens utrymme och rum " +
      "samt tillgång till administratörsrummet. Behörigheterna följer rollen i Deploy App.",
  },
  en: {
    title: "Matrix messaging",
    description: "Encrypted chat and calls on a Matrix server. Sign in to the Element app " +
      "with your Deploy App account: you join the deployment's space and shared rooms " +
      "automatically.",
    adminDescription: "As an admin you get moderator rights in the deployment's space and " +
      "rooms, and access to the admins' room. The rights follow your Deploy App role.",
  },
};

/** What a person needs to know to log in, in one language. */
export interface LoginFacts {
  readonly userId: string;
  readonly homeserverUrl: string;
  readonly serverName: string;
  readonly spaceAlias: string;
  readonly roomAliases: readonly string[];
  readonly adminRoomAlias: string | null;
}

export interface Instructions {
  readonly title: string;
  readonly steps: readonly string[];
  readonly notes: readonly string[];
}

export function loginInstructions(lang: Language, f: LoginFacts): Instructions {
  const admin = f.adminRoomAlias;
  switch (lang) {
    case "fi":
      return {
        title: "Kirjautuminen Matrixiin Elementillä",
        steps: [
          "Asenna Element-sovellus (Android, iOS tai työpöytä) tai avaa Element-verkkosovellus.",
          `Valitse "Kirjaudu sisään" ja vaihda kotipalvelimeksi ${f.homeserverUrl}`,
          "Valitse kertakirjautuminen (SSO) ja tunnistaudu Deploy Appin tunnuksellasi.",
          `Matrix-tunnuksesi on ${f.userId}.`,
          `Löydät joukon tilan ${f.spaceAlias} ja huoneet ${f.roomAliases.join(", ")}.`,
        ],
        notes: [
          "Viestit ovat päästä päähän salattuja: tallenna palautusavain, kun Element pyytää sitä.",
          ...(admin ? [`Ylläpitäjänä sinut liitetään myös huoneeseen ${admin}.`] : []),
        ],
      };
    case "sv":
      return {
        title: "Logga in i Matrix med Element",
        steps: [
          "Installera Element-appen (Android, iOS eller dator) eller öppna Element på webben.",
          `Välj "Logga in" och byt hemserver till ${f.homeserverUrl}`,
          "Välj enkel inloggning (SSO) och logga in med ditt Deploy App-konto.",
          `Ditt Matrix-ID är ${f.userId}.`,
          `Du hittar truppens utrymme ${f.spaceAlias} och rummen ${f.roomAliases.join(", ")}.`,
        ],
        notes: [
          "Meddelandena är krypterade från ände till ände: spara återställningsnyckeln när " +
          "Element ber om den.",
          ...(admin ? [`Som administratör ansluts du också till rummet ${admin}.`] : []),
        ],
      };
    case "en":
      return {
        title: "Signing in to Matrix with Element",
        steps: [
          "Install the Element app (Android, iOS or desktop) or open Element on the web.",
          `Choose "Sign in" and change the homeserver to ${f.homeserverUrl}`,
          "Choose single sign-on (SSO) and sign in with your Deploy App account.",
          `Your Matrix ID is ${f.userId}.`,
          `You will find the deployment's space ${f.spaceAlias} and the rooms ` +
          `${f.roomAliases.join(", ")}.`,
        ],
        notes: [
          "Messages are end-to-end encrypted: save the recovery key when Element asks for it.",
          ...(admin ? [`As an admin you are also joined to ${admin}.`] : []),
        ],
      };
  }
}

/** The info page as Markdown (RM's UI renders it for the `markdown` component). */
export function infoMarkdown(lang: Language, callsign: string, f: LoginFacts): string {
  const i = loginInstructions(lang, f);
  const hello = { fi: "Hei", sv: "Hej", en: "Hello" }[lang];
  return [
    `# ${i.title}`,
    "",
    `${hello} ${_mdEscape(callsign)}!`,
    "",
    ...i.steps.map((s, n) => `${n + 1}. ${s}`),
    "",
    ...i.notes.map((s) => `- ${s}`),
    "",
  ].join("\n");
}

// The callsign is the one piece of caller-supplied text in the page: escape anything that could
// make it markup or HTML. (Matrix IDs and aliases are built from validated, safe characters.)
function _mdEscape(text: string): string {
  return text.replace(/[\\`*_{}\[\]<>()#+!|~]/g, (c) => "\\" + c);
}

/** A small HTML escape for the deprecated HTML fragments. */
export function htmlEscape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
