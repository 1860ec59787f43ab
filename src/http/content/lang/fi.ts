/** @module Suomenkielinen sisältö (Finnish content). Shape and placeholders: `../guide.ts`. */
import type { LanguagePack } from "../guide.ts";

export const FI: LanguagePack = {
  product: {
    title: "Matrix-viestit",
    description: "Salattu pikaviestintä ja puhelut Matrix-palvelimella. Kirjaudu Element-" +
      "sovellukseen Deploy App -tunnuksellasi: liityt automaattisesti joukon tilaan ja " +
      "yhteisiin huoneisiin.",
    adminDescription: "Ylläpitäjänä saat Matrixissa korkeimmat oikeudet (oikeustaso 100) " +
      "joukon tilaan ja yhteisiin huoneisiin sekä pääsyn ylläpitäjien huoneeseen. Oikeudet " +
      "seuraavat Deploy Appin roolia: ylennä ja alenna henkilöt Deploy Appissa, ei Matrixissa. " +
      "Kun poistat henkilön Deploy Appista, myös hänen Matrix-tilinsä suljetaan. Palvelu pitää " +
      "joukon huoneiden asetukset ennallaan (salaus, liittymisoikeus, nimet, aiheet), joten " +
      "järjestä joukon oma työ huoneisiin, jotka luotte tilaan itse.",
  },
  title: "Kirjaudu Matrixiin Elementillä ja pääse alkuun",
  hello: "Hei {callsign}!",
  intro: "Matrix on tämän joukon salattu viestipalvelu: keskustelut, huoneet, tiedostot sekä " +
    "ääni- ja videopuhelut. Käytät sitä Element-sovelluksella ja Deploy App -tunnuksellasi. " +
    "Alla ovat tietosi, oikea sovellus, ensimmäinen kirjautuminen ja käytön perusteet.",
  sections: {
    details: {
      heading: "Tietosi",
      blocks: [
        {
          list: [
            "**Kotipalvelin:** {homeserver} (tämä osoite syötetään Elementiin).",
            "**Matrix-tunnuksesi:** {userId} (muut löytävät sinut tällä; se muodostetaan " +
            "kutsutunnuksestasi, eikä sitä voi vaihtaa).",
            "**Salasana:** ei ole. Kirjaudut Deploy App -tunnuksellasi kertakirjautumisella. " +
            "Palvelimella ei ole Matrix-salasanoja, joten älä kirjoita salasanaa mihinkään.",
          ],
        },
      ],
    },
    apps: {
      heading: "Asenna Element",
      blocks: [
        {
          list: [
            "**Android ja iPhone:** **Element Classic** -sovellus Google Playsta tai App " +
            "Storesta; tarkista, että nimessä lukee Classic. Uudempi **Element X** ei pysty " +
            "kirjautumaan tähän palvelimeen, koska se ei tue tässä käytettyä kertakirjautumista.",
            "**Windows, macOS ja Linux:** Element Desktop osoitteesta {elementDownload}.",
            "**Selain:** Element Web osoitteessa {elementWeb}; kirjaudu yhteiskäyttöisellä " +
            "koneella lopuksi ulos.",
          ],
        },
        "Kirjaudu laitteella, jolle Deploy App -varmenteesi on asennettu: kirjautuminen " +
        "avautuu selaimeen, ja selain todistaa henkilöllisyytesi tällä varmenteella. Muutkin " +
        "Matrix-sovellukset voivat toimia, mutta tämä ohje seuraa Elementiä.",
      ],
    },
    firstLogin: {
      heading: "Ensimmäinen kirjautuminen",
      blocks: [
        {
          steps: [
            "Avaa Element ja valitse Kirjaudu sisään (älä luo uutta tiliä).",
            "Vaihda kotipalvelin: kohdassa, jossa Element näyttää palvelimen nimen (usein " +
            "matrix.org), valitse muokkaus ja syötä {homeserver}",
            "Jatka kertakirjautumisella. Painikkeessa lukee Deploy Appin kirjautumispalvelun " +
            "nimi, esimerkiksi ”Continue with Keycloak”. Salasanakenttää ei täytetä.",
            "Selain avaa Deploy Appin kirjautumisen. Jos se kysyy varmennetta, valitse Deploy " +
            "App -varmenteesi. Jos sivu kysyy, saako Element kirjata sinut sisään, vahvista.",
            "Elementissä olet nyt kirjautuneena tunnuksella {userId}.",
            "Element tarjoaa salattujen viestien palautuksen käyttöönottoa: tee se heti ja " +
            "säilytä palautusavain huolella (ks. ”Salaus ja palautusavain”).",
            "Odota hetki: muutaman sekunnin kuluessa ensimmäisestä kirjautumisesta sinut " +
            "liitetään tilaan ja sen yhteisiin huoneisiin. Kutsuja ei tarvitse hyväksyä.",
          ],
        },
      ],
    },
    rooms: {
      heading: "Tilasi ja huoneesi",
      blocks: [
        "Tila kokoaa joukon huoneet Elementissä yhteen paikkaan. Linkit avaavat huoneen " +
        "Matrix-sovelluksessasi (matrix.to-palvelun kautta).",
        {
          list: [
            "**{spaceName}** {space}: joukon tila.",
            "**{generalName}** {general}: työasiat, jotka eivät sovi muihin huoneisiin.",
            "**{helpdeskName}** {helpdesk}: ongelmien ilmoittaminen ja avun saaminen.",
            "**{offtopicName}** {offtopic}: kaikki, mikä ei liity työhön.",
          ],
        },
        "Deploy Appin ylläpitäjillä on lisäksi oma huoneensa **{adminName}**. Nimen alussa " +
        "oleva numero vain pitää huoneet järjestyksessä. Jokainen tilan jäsen voi liittyä " +
        "tilalle avoimiin huoneisiin. Näissä huoneissa näet liittymisesi jälkeen lähetetyt " +
        "viestit, et aiempia.",
      ],
    },
    encryption: {
      heading: "Salaus ja palautusavain",
      blocks: [
        "Joukon huoneiden viestit ovat päästä päähän salattuja: vain huoneessa olevien " +
        "laitteet voivat lukea ne, ja palvelin tallentaa vain salattua dataa. Jokaisella " +
        "laitteella, jolla kirjaudut, on omat avaimensa.",
        {
          list: [
            "**Ota palautus käyttöön**, kun Element tarjoaa sitä. Saat palautusavaimen: pitkän " +
            "kirjaimista ja numeroista koostuvan merkkijonon. Säilytä sitä kuin omaa koodiasi: " +
            "salasanojen hallinnassa tai paperilla turvallisessa paikassa, ei koskaan " +
            "keskustelussa tai valokuvassa.",
            "**Kun Element kysyy palautusavainta** (uusi puhelin, uusi kirjautuminen), syötä se " +
            "tai vahvista uusi laite laitteelta, jolla olet jo kirjautuneena: Element näyttää " +
            "siellä pyynnön, ja vertaat emojeja tai luet näytetyn koodin.",
            "**Avain hukassa eikä muuta laitetta?** Elementissä voit nollata palautuksen. Voit " +
            "jatkaa Matrixin käyttöä, mutta vanhat salatut viestit jäävät sillä laitteella " +
            "lukukelvottomiksi, ja muut voivat nähdä, että identiteettisi on vaihtunut.",
            "**Muiden vahvistaminen** on vapaaehtoista: vertaa emojeja kasvokkain, niin tiedät " +
            "laitteen todella olevan hänen.",
          ],
        },
      ],
    },
    messaging: {
      heading: "Viestit",
      blocks: [
        {
          list: [
            "Kirjoita huoneeseen tai aloita yksityinen keskustelu: hae henkilöä kutsutunnuksella " +
            "tai Matrix-tunnuksella.",
            "Vastaa viestiin, jotta keskustelu pysyy selkeänä, tai aloita sivuasialle ketju.",
            "Mainitse joku kirjoittamalla @ ja hänen nimensä: hän saa ilmoituksen.",
            "Jaa kuvia ja tiedostoja; kuittaa emojireaktiolla ilman uutta viestiä.",
            "Voit muokata ja poistaa omia viestejäsi.",
            "Mykistä huoneet, joita tarvitset vain harvoin, niin tärkeät erottuvat.",
          ],
        },
      ],
    },
    calls: {
      heading: "Ääni- ja videopuhelut",
      blocks: [
        {
          list: [
            "Yksityisessä keskustelussa puhelin- ja kamerapainike aloittavat ääni- tai " +
            "videopuhelun.",
            "Huoneessa kuka tahansa voi aloittaa puhelun, johon muut huoneen jäsenet voivat " +
            "liittyä neuvotteluna. Ryhmäpuhelujen toimivuus riippuu tämän palvelimen " +
            "puhelupalveluista: jos puhelu ei yhdisty, kerro siitä huoneessa **{helpdeskName}**.",
            "Myös puhelut ovat salattuja. Heikolla yhteydellä sulje video ja käytä ääntä.",
          ],
        },
      ],
    },
    organise: {
      heading: "Joukon omat huoneet",
      blocks: [
        "Palvelu luo vain yllä luetellun tilan ja huoneet. Joukko voi lisätä tilaan omia " +
        "huoneitaan: jokainen tilan jäsen voi tehdä sen. Toimivia ajatuksia:",
        {
          list: [
            "**Johtohuone:** kuin radion johtoverkko. Johtaja ja alajohtajat, lyhyet ja selkeät " +
            "viestit: käskyt, ilmoitukset ja kuittaukset. Huoneen luoja voi rajata, ketkä saavat " +
            "kirjoittaa.",
            "**Omien joukkojen tilanne:** omat osastot ilmoittavat sijaintinsa, tilansa ja valmiutensa, " +
            "jotta kaikilla on sama tilannekuva.",
            "**Tiedusteluhuone:** havainnot ja ilmoitukset: mitä, missä, milloin, kuinka paljon " +
            "ja mitä tehtiin.",
            "**Vartiohuone:** avoin kaikille tilan jäsenille. Vartiossa tai päivystysvuorossa " +
            "oleva liittyy vuoron ajaksi, tekee vaihdon huoneessa ja poistuu lopuksi.",
            "**Tulenkäytön huoneet:** yksi kutakin tuliyksikköä tai tehtävää kohden: " +
            "tulipyynnöt, korjaukset ja yhteensovitus.",
          ],
        },
        "Kun luot huoneen: lisää se tilaan, salli tilan jäsenten liittyä (tai tee siitä " +
        "kutsupohjainen suljetulle ryhmälle), pidä salaus päällä ja aloita nimi numerolla, " +
        "jotta se järjestyy muiden joukkoon. Huoneen luoja hallitsee huonetta; Deploy Appin " +
        "ylläpitäjät eivät saa siihen oikeuksia automaattisesti.",
      ],
    },
    federation: {
      heading: "Muut Matrix-palvelimet",
      blocks: [
        {
          list: [
            "Matrix-tunnuksesi päättyy osaan {serverName}: se on tämän joukon oma palvelin.",
            "Matrix-palvelimet voivat viestiä keskenään (federaatio), mutta sen, tekeekö tämä " +
            "palvelin niin, päättää ympäristön ylläpitäjä, ja moni pitää palvelimensa " +
            "suljettuna. Kysy ylläpitäjältäsi.",
            "Jos palvelin on avoin, voit aloittaa yksityisen keskustelun toisen palvelimen " +
            "käyttäjän kanssa hänen koko Matrix-tunnuksellaan, ja ylläpitäjä voi kutsua hänet " +
            "huoneeseen. Tila ja ylläpitäjien huone ovat vain kutsutuille, ja muut huoneet " +
            "ovat avoimia vain tilan jäsenille.",
            "Kaikki, mitä jaat toisen palvelimen käyttäjille, tallentuu myös heidän " +
            "palvelimelleen. Pidä arkaluonteinen aineisto joukon omissa huoneissa.",
          ],
        },
      ],
    },
    roles: {
      heading: "Kun roolisi Deploy Appissa muuttuu",
      blocks: [
        {
          list: [
            "**Hyväksytty Deploy Appiin:** Matrix-tilisi syntyy ensimmäisellä kirjautumisella, ja " +
            "sinut liitetään tilaan ja yhteisiin huoneisiin.",
            "**Ylennetty ylläpitäjäksi:** saat korkeimmat oikeudet (oikeustaso 100) tilassa ja " +
            "yhteisissä huoneissa, ja sinut liitetään ylläpitäjien huoneeseen.",
            "**Ylläpito-oikeudet poistettu:** oikeustasosi palaa tavalliseksi, ja sinut " +
            "poistetaan ylläpitäjien huoneesta.",
            "**Poistettu Deploy Appista:** Matrix-tilisi suljetaan pysyvästi, etkä voi enää " +
            "kirjautua. Viestisi pyyhitään palvelimelta: myöhemmin huoneeseen liittyvät eivät " +
            "näe niitä (jo huoneessa olleilla ne voivat yhä olla).",
          ],
        },
      ],
    },
    help: {
      heading: "Apua",
      blocks: [
        {
          list: [
            "Ongelmat ja kysymykset: kirjoita huoneeseen {helpdesk}. Jos et pääse " +
            "kirjautumaan lainkaan, ota yhteyttä Deploy Appin ylläpitäjään.",
            "Elementin asetuksissa näet laitteet, joilla olet kirjautuneena: kirjaudu ulos " +
            "niistä, joita et enää käytä.",
            "Lisää Matrixista ekosysteemin oppaassa: {docs}",
          ],
        },
      ],
    },
    admin: {
      heading: "Deploy Appin ylläpitäjille",
      blocks: [
        {
          list: [
            "Sinulla on korkeimmat oikeudet (oikeustaso 100) tilassa **{spaceName}** ja sen yhteisissä " +
            "huoneissa: voit muuttaa huoneiden asetuksia, kutsua henkilöitä, poistaa tai estää " +
            "heitä ja poistaa viestejä.",
            "Sinut on liitetty huoneeseen **{adminName}** {admin}, ylläpitäjien omaan huoneeseen.",
            "Ylläpito-oikeudet seuraavat Deploy Appia: ylennä ja alenna henkilöt siellä, ei " +
            "Matrixissa. Palvelu asettaa ylläpitäjien oikeustasot joukon huoneissa ja poistaa " +
            "ne niiltä, jotka eivät enää ole ylläpitäjiä.",
            "Palvelu pitää tilan ja sen huoneet määritellyissä asetuksissa: nimet, aiheet, " +
            "salaus, liittymisoikeus, historia ja tilan linkit. Niihin tehdyt muutokset " +
            "perutaan; järjestä joukon työ huoneisiin, jotka luotte itse.",
            "Poista henkilö joukosta Deploy Appissa: se sulkee hänen Matrix-tilinsä. Huoneesta " +
            "poistaminen koskee vain yhtä huonetta, ja hän voi liittyä uudelleen mihin tahansa " +
            "tilalle avoimeen huoneeseen.",
            "Palvelun tili {bot} ylläpitää huoneita: pidä se jokaisessa huoneessa, äläkä poista " +
            "sitä tai laske sen oikeustasoa.",
            "Vain ylläpitäjät voivat kutsua henkilöitä joukon huoneisiin; kutsu vieraita muilta " +
            "palvelimilta vain, jos palvelimesi viestii muiden kanssa ja joukkosi sallii sen.",
          ],
        },
      ],
    },
  },
  notes: [
    "Viestit ovat päästä päähän salattuja: ota palautus käyttöön, kun Element tarjoaa sitä, ja " +
    "säilytä palautusavain huolella.",
    "Sinut liitetään ensimmäisen kirjautumisen jälkeen automaattisesti tilaan {space} sekä " +
    "huoneisiin {general}, {helpdesk} ja {offtopic}.",
  ],
  adminNotes: [
    "Ylläpitäjänä sinulla on oikeustaso 100 tilassa ja yhteisissä huoneissa, ja sinut " +
    "liitetään myös huoneeseen {admin}.",
  ],
};
