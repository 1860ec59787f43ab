/**
 * @module CFSSL's certificate database for a test CA: SQLite with the schema of
 * docker-rasenmaeher-cfssl's goose migrations (001 and 002), revocation through `cfssl revoke`.
 */
import { DatabaseSync } from "node:sqlite";
import type { CfsslBins } from "../cfssl/install.ts";
import { runCfssl } from "../cfssl/run.ts";

export interface CaDatabase {
  readonly path: string;
  /** The `-db-config` file CFSSL's commands take. */
  readonly config: string;
  readonly dir: string;
}

const SCHEMA = `
CREATE TABLE certificates (
  serial_number blob NOT NULL, authority_key_identifier blob NOT NULL, ca_label blob,
  status blob NOT NULL, reason int, expiry timestamp, revoked_at timestamp, pem blob NOT NULL,
  issued_at timestamp, not_before timestamp, metadata text, sans text, common_name text,
  PRIMARY KEY(serial_number, authority_key_identifier));
CREATE TABLE ocsp_responses (
  serial_number blob NOT NULL, authority_key_identifier blob NOT NULL, body blob NOT NULL,
  expiry timestamp, PRIMARY KEY(serial_number, authority_key_identifier),
  FOREIGN KEY(serial_number, authority_key_identifier)
    REFERENCES certificates(serial_number, authority_key_identifier));`;

/** An empty database in `dir`. */
export async function createCaDatabase(dir: string): Promise<CaDatabase> {
  const path = `${dir}/certdb.sqlite`;
  const db = new DatabaseSync(path);
  try {
    db.exec(SCHEMA);
  } finally {
    db.close();
  }
  const config = `${dir}/db.json`;
  await Deno.writeTextFile(config, JSON.stringify({ driver: "sqlite3", data_source: path }));
  return { path, config, dir };
}

/** Revokes the certificate with hex serial `serialHex` as RM does (CFSSL keeps serials decimal). */
export async function revokeInDatabase(
  bins: CfsslBins,
  db: CaDatabase,
  serialHex: string,
  reason: string,
): Promise<void> {
  const serial = BigInt(`0x${serialHex.replace(/[:\s]/g, "")}`).toString(10);
  const handle = new DatabaseSync(db.path, { readOnly: true });
  let aki: string | undefined;
  try {
    const row = handle.prepare(
      "SELECT CAST(authority_key_identifier AS TEXT) AS aki FROM certificates WHERE " +
        "CAST(serial_number AS TEXT) = ?",
    ).get(serial) as { aki?: string } | undefined;
    aki = row?.aki;
  } finally {
    handle.close();
  }
  if (aki === undefined) throw new Error(`serial ${serialHex} was not issued by this CFSSL CA`);
  await runCfssl(bins, [
    "revoke",
    `-db-config=${db.config}`,
    `-serial=${serial}`,
    `-aki=${aki}`,
    `-reason=${reason}`,
  ], db.dir);
}
