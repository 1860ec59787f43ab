/**
 * @module Callsign → Matrix user ID, exactly as Synapse's OIDC login derives it, so that the ID
 * we act on is the ID the person gets when they first log in.
 */

/** The outcome of mapping a callsign: a user ID, or the reason there cannot be one. */
export type MxidResult =
  | { readonly ok: true; readonly localpart: string; readonly userId: string }
  | { readonly ok: false; readonly reason: string };

// Synapse `synapse/types/__init__.py`: mxid_localpart_allowed_characters =
// set("_-./=+" + ascii_lowercase + digits); NON_MXID_CHARACTER_PATTERN matches every byte outside
// that set *and* "=" itself, so "=" is escaped too (it is the escape character).
const ALLOWED_BYTE = /^[a-z0-9_\-./+]$/;

// The Matrix spec caps a whole user ID (`@localpart:server`) at 255 bytes.
const MAX_USER_ID_BYTES = 255;

/**
 * Synapse's `map_username_to_mxid_localpart(username, case_sensitive=False)` from
 * `synapse/types/__init__.py` (element-hq/synapse): encode as UTF-8, lower-case ASCII, replace
 * every byte outside `[a-z0-9_\-./+]` with `=xx` (two lower-case hex digits), and escape a
 * leading `_` as `=5f`.
 *
 * In the deployment Keycloak lower-cases `preferred_username` (Unicode-aware) before Synapse's
 * `localpart_template` sees it, so this first applies the locale-independent Unicode
 * `toLowerCase()`; for ASCII the two agree, and for "Ä" it yields "=c3=a4" as production does.
 */
export function mapUsernameToLocalpart(username: string): string {
  const bytes = new TextEncoder().encode(username.toLowerCase());
  let out = "";
  for (const byte of bytes) {
    const ch = String.fromCharCode(byte);
    // Bytes ≥ 0x80 map to Latin-1 code points that never match ALLOWED_BYTE: escaped per byte.
    out += ALLOWED_BYTE.test(ch) ? ch : "=" + byte.toString(16).padStart(2, "0");
  }
  return out.startsWith("_") ? "=5f" + out.slice(1) : out;
}

/** Derives the Matrix user ID of a Deploy App callsign on `serverName`, or says why it cannot. */
export function callsignToUserId(callsign: string, serverName: string): MxidResult {
  if (callsign.length === 0) {
    return { ok: false, reason: 'Cannot map callsign "" to a Matrix ID: it is empty' };
  }
  if (callsign.trim() !== callsign) {
    return {
      ok: false,
      reason: `Cannot map callsign ${JSON.stringify(callsign)} to a Matrix ID: ` +
        "it has leading or trailing whitespace",
    };
  }
  if (!callsign.isWellFormed()) {
    return {
      ok: false,
      reason: `Cannot map callsign ${JSON.stringify(callsign)} to a Matrix ID: ` +
        "it is not valid Unicode",
    };
  }
  const localpart = mapUsernameToLocalpart(callsign);
  const userId = `@${localpart}:${serverName}`;
  if (userId.length > MAX_USER_ID_BYTES) {
    return {
      ok: false,
      reason: `Cannot map callsign ${JSON.stringify(callsign)} to a Matrix ID: ` +
        `"${userId.slice(0, 40)}…" would be ${userId.length} bytes, over Matrix's limit of ` +
        `${MAX_USER_ID_BYTES}`,
    };
  }
  return { ok: true, localpart, userId };
}

/**
 * Why the service must never act on `userId`, or `null` when it may: the bot itself and the
 * one-off recovery admins it registers and the interop ingest bot are accounts the service owns,
 * not people's.
 */
export function reservedAccount(
  userId: string,
  botUsername: string,
  ingestBotUsername?: string,
): string | null {
  const localpart = userId.slice(1, userId.indexOf(":"));
  if (localpart === botUsername) return `${userId} is this service's own bot`;
  if (localpart === ingestBotUsername) return `${userId} is the interop ingest bot`;
  if (localpart.startsWith(`${botUsername}-recovery-`)) {
    return `${userId} is one of this service's recovery admins`;
  }
  return null;
}

/**
 * Why a callsign is Rasenmaeher's own account and not a person's, or `null` when it may be a
 * person. RM's `firstuser/add-admin` creates `anon_admin` and announces it to every product; it
 * never logs in anywhere and RM's people list hides it. Compared exactly, as RM stores it.
 */
export function rmOwnAccount(callsign: string, rmOwnCallsigns: readonly string[]): string | null {
  return rmOwnCallsigns.includes(callsign)
    ? `${JSON.stringify(callsign)} is Rasenmaeher's own account, not a person`
    : null;
}
