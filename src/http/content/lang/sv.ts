/** @module Svenskt innehåll (Swedish content). Shape and placeholders: `../guide.ts`. */
import type { LanguagePack } from "../guide.ts";

export const SV: LanguagePack = {
  product: {
    title: "Matrix-meddelanden",
    description: "Krypterade snabbmeddelanden och samtal på en Matrix-server. Logga in i " +
      "Element-appen med ditt Deploy App-konto: du ansluts automatiskt till truppens utrymme " +
      "och gemensamma rum.",
    adminDescription: "Som administratör får du de högsta rättigheterna (behörighetsnivå 100) " +
      "i truppens utrymme och gemensamma rum samt tillgång till administratörsrummet. " +
      "Rättigheterna följer rollen i Deploy App: befordra och degradera personer där, inte i " +
      "Matrix. När du tar bort en person i Deploy App stängs också personens Matrix-konto. " +
      "Tjänsten håller truppens rum som de är inställda (kryptering, vem som får gå med, namn, " +
      "ämnen), så organisera truppens eget arbete i rum som ni själva skapar i utrymmet.",
  },
  title: "Logga in i Matrix med Element och kom igång",
  hello: "Hej {callsign}!",
  intro: "Matrix är truppens krypterade meddelandetjänst: chattar, rum, filer samt röst- och " +
    "videosamtal. Du använder den med appen Element och ditt Deploy App-konto. Nedan finns " +
    "dina uppgifter, vilken app du ska installera, din första inloggning och hur du kommer igång.",
  sections: {
    details: {
      heading: "Dina uppgifter",
      blocks: [
        {
          list: [
            "**Hemserver:** {homeserver} (den här adressen anger du i Element).",
            "**Ditt Matrix-ID:** {userId} (andra hittar dig med det; det bildas av din " +
            "anropssignal och kan inte ändras).",
            "**Lösenord:** inget. Du loggar in med ditt Deploy App-konto genom enkel " +
            "inloggning. Servern har inga Matrix-lösenord, så skriv aldrig in något lösenord.",
          ],
        },
      ],
    },
    apps: {
      heading: "Installera Element",
      blocks: [
        {
          list: [
            "**Android och iPhone:** appen **Element Classic** från Google Play eller App " +
            "Store; kontrollera att namnet innehåller Classic. Den nyare appen **Element X** kan " +
            "inte logga in här: den stöder inte den typ av enkel inloggning som servern använder.",
            "**Windows, macOS och Linux:** Element Desktop från {elementDownload}.",
            "**Webbläsare:** Element Web på {elementWeb}; logga ut när du är klar om datorn " +
            "delas med andra.",
          ],
        },
        "Logga in på en enhet där ditt Deploy App-certifikat är installerat: inloggningen " +
        "öppnar en webbläsare, och webbläsaren visar vem du är med det certifikatet. Andra " +
        "Matrix-appar kan också fungera, men den här guiden följer Element.",
      ],
    },
    firstLogin: {
      heading: "Logga in första gången",
      blocks: [
        {
          steps: [
            "Öppna Element och välj att logga in (skapa inte ett nytt konto).",
            "Byt hemserver: där Element visar ett servernamn (ofta matrix.org), välj att " +
            "redigera det och ange {homeserver}",
            "Fortsätt med enkel inloggning. Knappen visar namnet på Deploy Apps " +
            "inloggningstjänst, till exempel ”Continue with Keycloak”. Det finns inget " +
            "lösenordsfält att fylla i.",
            "En webbläsare öppnar Deploy Apps inloggning. Om den frågar efter ett certifikat, " +
            "välj ditt Deploy App-certifikat. Om en sida frågar om Element får logga in dig, " +
            "bekräfta.",
            "Tillbaka i Element är du inloggad som {userId}.",
            "Element erbjuder att ställa in återställning för dina krypterade meddelanden: gör " +
            "det genast och förvara återställningsnyckeln väl (se ”Kryptering och din " +
            "återställningsnyckel”).",
            "Vänta en stund: inom några sekunder efter din första inloggning ansluts du till " +
            "utrymmet och dess gemensamma rum. Du behöver inte godkänna några inbjudningar.",
          ],
        },
      ],
    },
    rooms: {
      heading: "Ditt utrymme och dina rum",
      blocks: [
        "Ett utrymme samlar truppens rum på ett ställe i Element. Länkarna öppnar rummet i din " +
        "Matrix-app (via matrix.to).",
        {
          list: [
            "**{spaceName}** {space}: truppens utrymme.",
            "**{generalName}** {general}: arbetsfrågor som inte passar i något annat rum.",
            "**{helpdeskName}** {helpdesk}: rapportera problem och få hjälp.",
            "**{offtopicName}** {offtopic}: allt som inte handlar om arbetet.",
          ],
        },
        "Administratörerna i Deploy App har dessutom ett eget rum, **{adminName}**. Siffran " +
        "först i namnet håller bara rummen i ordning. Alla i utrymmet får gå med i rummen som " +
        "är öppna för utrymmet. I de här rummen ser du meddelanden som skickats efter att du " +
        "gick med, inte tidigare.",
      ],
    },
    encryption: {
      heading: "Kryptering och din återställningsnyckel",
      blocks: [
        "Meddelandena i truppens rum är krypterade från ände till ände: bara enheterna hos " +
        "dem som är i rummet kan läsa dem, och servern lagrar bara krypterad data. Varje enhet " +
        "du loggar in på har egna nycklar.",
        {
          list: [
            "**Ställ in återställning** när Element erbjuder det. Du får en " +
            "återställningsnyckel: en lång rad bokstäver och siffror. Förvara den som en egen " +
            "kod: i en lösenordshanterare eller på papper på ett säkert ställe, aldrig i en " +
            "chatt eller på ett foto.",
            "**När Element ber om din återställningsnyckel** (ny telefon, ny inloggning), ange " +
            "den, eller bekräfta den nya enheten från en enhet där du redan är inloggad: Element " +
            "visar en förfrågan där, och du jämför emojier eller skannar koden som visas.",
            "**Tappat nyckeln och ingen annan enhet?** I Element kan du nollställa " +
            "återställningen och börja om. Du kan fortsätta använda Matrix, men äldre krypterade meddelanden " +
            "förblir oläsliga på den enheten, och andra kan se att din identitet har ändrats.",
            "**Att verifiera andra** är frivilligt: jämför emojier ansikte mot ansikte för att " +
            "vara säker på att en enhet verkligen är deras.",
          ],
        },
      ],
    },
    messaging: {
      heading: "Meddelanden",
      blocks: [
        {
          list: [
            "Skriv i ett rum eller starta en direktchatt: sök efter en person med anropssignal " +
            "eller Matrix-ID.",
            "Svara på ett meddelande så att samtalet hålls tydligt, eller starta en tråd för " +
            "en sidofråga.",
            "Nämn någon genom att skriva @ och namnet: personen får en avisering.",
            "Dela bilder och filer; kvittera med en emojireaktion utan nytt meddelande.",
            "Du kan redigera och ta bort dina egna meddelanden.",
            "Tysta rum som du bara behöver ibland, så att de viktiga syns.",
          ],
        },
      ],
    },
    calls: {
      heading: "Röst- och videosamtal",
      blocks: [
        {
          list: [
            "I en direktchatt startar telefon- och kameraknappen ett röst- eller videosamtal.",
            "I ett rum får vem som helst starta ett samtal som de andra i rummet kan ansluta " +
            "till, som en konferens. Om gruppsamtal fungerar beror på samtalstjänsterna hos " +
            "truppens server: om ett samtal inte kopplas upp, säg till i **{helpdeskName}**.",
            "Även samtalen är krypterade. Vid svag förbindelse, stäng av videon och använd ljud.",
          ],
        },
      ],
    },
    organise: {
      heading: "Truppens egna rum",
      blocks: [
        "Tjänsten skapar bara utrymmet och rummen ovan. En trupp kan lägga till egna rum i " +
        "utrymmet: alla i utrymmet får göra det. Idéer som fungerar:",
        {
          list: [
            "**Ledningsrum:** som ett ledningsnät på radion. Chefen och underchefer, korta och " +
            "tydliga meddelanden: order, rapporter och kvittenser. Den som skapar rummet kan " +
            "begränsa vem som får skriva.",
            "**Egen lägesbild:** egna enheter rapporterar var de är, sin status och beredskap, " +
            "så att alla har samma bild.",
            "**Spaningsrum:** observationer och rapporter: vad, var, när, hur många och vad " +
            "som gjordes.",
            "**Vaktrum:** öppet för alla i utrymmet. Den som har vakt eller jour går med för " +
            "passet, gör överlämningen i rummet och lämnar efteråt.",
            "**Eldrum:** ett per eldenhet eller uppgift, för eldbegäran, korrigeringar och " +
            "samordning.",
          ],
        },
        "När du skapar ett rum: lägg till det i utrymmet, låt utrymmets medlemmar gå med (eller " +
        "gör det till enbart inbjudna för en sluten grupp), behåll krypteringen och börja namnet " +
        "med en siffra så att det sorteras bland de andra. Den som skapar ett rum förvaltar det; " +
        "administratörerna i Deploy App får inga rättigheter där automatiskt.",
      ],
    },
    federation: {
      heading: "Andra Matrix-servrar",
      blocks: [
        {
          list: [
            "Ditt Matrix-ID slutar med {serverName}: truppens egen server.",
            "Matrix-servrar kan kommunicera med varandra (federering), men om den här gör det " +
            "bestäms av den som driver miljön, och många håller sin server stängd. Fråga din " +
            "administratör.",
            "Om den är öppen kan du starta en direktchatt med någon på en annan server med " +
            "personens fullständiga Matrix-ID, och en administratör kan bjuda in personen till " +
            "ett rum. Utrymmet och administratörsrummet är bara för inbjudna, och de andra " +
            "rummen är öppna bara för utrymmets medlemmar.",
            "Allt du delar med personer på en annan server lagras också på deras server. Håll " +
            "känsligt material i truppens egna rum.",
          ],
        },
      ],
    },
    roles: {
      heading: "När din roll i Deploy App ändras",
      blocks: [
        {
          list: [
            "**Godkänd i Deploy App:** ditt Matrix-konto skapas vid din första inloggning, och " +
            "du ansluts till utrymmet och de gemensamma rummen.",
            "**Befordrad till administratör:** du får de högsta rättigheterna (behörighetsnivå " +
            "100) i utrymmet och de gemensamma rummen, och du ansluts till " +
            "administratörsrummet.",
            "**Administratörsrättigheter borttagna:** din nivå går tillbaka till den vanliga, " +
            "och du tas bort från administratörsrummet.",
            "**Borttagen ur Deploy App:** ditt Matrix-konto stängs för gott och du kan inte " +
            "längre logga in. Dina meddelanden raderas på servern: de som går med i ett rum " +
            "senare ser dem inte (de som redan var i rummet kan fortfarande ha dem).",
          ],
        },
      ],
    },
    help: {
      heading: "Hjälp",
      blocks: [
        {
          list: [
            "Problem och frågor: skriv i {helpdesk}. Om du inte alls kan logga in, kontakta din " +
            "administratör i Deploy App.",
            "I Elements inställningar ser du enheterna du är inloggad på: logga ut från dem du " +
            "inte längre använder.",
            "Mer om Matrix i ekosystemets guide: {docs}",
          ],
        },
      ],
    },
    admin: {
      heading: "För administratörer i Deploy App",
      blocks: [
        {
          list: [
            "Du har de högsta rättigheterna (behörighetsnivå 100) i utrymmet **{spaceName}** och dess gemensamma " +
            "rum: du kan ändra rummens inställningar, bjuda in personer, ta bort eller " +
            "stänga ute dem och ta bort meddelanden.",
            "Du har anslutits till **{adminName}** {admin}, administratörernas eget rum.",
            "Administratörsrättigheterna följer Deploy App: befordra och degradera personer " +
            "där, inte i Matrix. Tjänsten sätter administratörernas nivåer i truppens rum och " +
            "tar bort dem från dem som inte längre är administratörer.",
            "Tjänsten håller utrymmet och dess rum som de är inställda: namn, ämnen, " +
            "kryptering, vem som får gå med, historik och utrymmets länkar. Ändringar i dem " +
            "återställs; organisera truppens arbete i rum som ni själva skapar.",
            "För att ta bort någon ur truppen, ta bort personen i Deploy App: det stänger " +
            "personens Matrix-konto. Att sparka ut någon gäller bara ett rum, och personen kan " +
            "gå med igen i vilket rum som helst som är öppet för utrymmet.",
            "Tjänstens konto {bot} sköter rummen: låt det vara kvar i varje rum, sparka inte ut " +
            "det och sänk inte dess nivå.",
            "Bara administratörer kan bjuda in personer till truppens rum; bjud in gäster från " +
            "andra servrar bara om din server kommunicerar med andra och truppen tillåter det.",
          ],
        },
      ],
    },
  },
  notes: [
    "Meddelandena är krypterade från ände till ände: ställ in återställning när Element " +
    "erbjuder det och förvara återställningsnyckeln väl.",
    "Efter din första inloggning ansluts du automatiskt till utrymmet {space} och rummen " +
    "{general}, {helpdesk} och {offtopic}.",
  ],
  adminNotes: [
    "Som administratör har du behörighetsnivå 100 i utrymmet och de gemensamma rummen, och du " +
    "ansluts också till {admin}.",
  ],
};
