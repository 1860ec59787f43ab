// A person and the ingest bot as two real Matrix clients (matrix-js-sdk with its Rust crypto):
// the person sends one message in an encrypted room, the bot's own device must decrypt it.
// Input in the environment (HS_URL, ROOM_ID, TEXT, PERSON_* and BOT_* as TOKEN/USER/DEVICE);
// prints one JSON line with what the bot saw; exits non-zero when it saw nothing readable.
import * as sdk from "matrix-js-sdk";

const env = process.env;
const DEADLINE_MS = Number(env.DEADLINE_MS ?? 60000);
sdk.logger?.setLevel?.("error");

function client(who) {
  return sdk.createClient({
    baseUrl: env.HS_URL,
    accessToken: env[`${who}_TOKEN`],
    userId: env[`${who}_USER`],
    deviceId: env[`${who}_DEVICE`],
  });
}

async function start(c) {
  await c.initRustCrypto({ useIndexedDB: false });
  const prepared = new Promise((resolve, reject) => {
    c.on(sdk.ClientEvent.Sync, (state, _prev, data) => {
      if (state === "PREPARED") resolve();
      if (state === "ERROR") reject(new Error(`sync failed: ${data?.error?.message}`));
    });
  });
  await c.startClient({ initialSyncLimit: 5 });
  await prepared;
}

async function until(what, check, deadline) {
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function main() {
  const deadline = Date.now() + DEADLINE_MS;
  const bot = client("BOT");
  const person = client("PERSON");
  const seen = { encrypted: false, decrypted: null, failures: 0 };
  const done = new Promise((resolve) => {
    const look = async (event) => {
      if (event.getRoomId() !== env.ROOM_ID || event.getSender() !== env.PERSON_USER) return;
      await bot.decryptEventIfNeeded(event);
      if (event.isEncrypted()) seen.encrypted = true;
      if (event.isDecryptionFailure()) seen.failures++;
      else if (event.getType() === "m.room.message" && event.getContent().body === env.TEXT) {
        seen.decrypted = { body: event.getContent().body, encrypted: event.isEncrypted() };
        resolve();
      }
    };
    bot.on(sdk.RoomEvent.Timeline, (event) => void look(event));
    bot.on(sdk.MatrixEventEvent.Decrypted, (event) => void look(event));
  });
  await start(bot);
  await start(person);
  // The person's client shares the room key only with devices it knows: wait for the bot's.
  await until("the person's client to see the bot's device", async () => {
    const devices = await person.getCrypto().getUserDeviceInfo([env.BOT_USER], true);
    return devices.get(env.BOT_USER)?.has(env.BOT_DEVICE);
  }, deadline);
  await until(
    "the person's client to know the room is encrypted",
    async () => await person.getCrypto().isEncryptionEnabledInRoom(env.ROOM_ID),
    deadline,
  );
  const sent = await person.sendTextMessage(env.ROOM_ID, env.TEXT);
  let timer;
  await Promise.race([
    done,
    new Promise((_, reject) => {
      timer = setTimeout(
        () => reject(new Error("the bot decrypted nothing in time")),
        deadline - Date.now(),
      );
    }),
  ]).finally(() => clearTimeout(timer));
  process.stdout.write(`RESULT ${JSON.stringify({ eventId: sent.event_id, ...seen })}\n`);
  bot.stopClient();
  person.stopClient();
}

main().then(() => process.exit(0), (err) => {
  process.stderr.write(`decrypt.mjs: ${err.stack ?? err}\n`);
  process.exit(1);
});
