/**
 * @module One spelling for certificate serial numbers. Node prints `8ABCDEF…` (upper case, no
 * leading zeros) and @peculiar/x509 `08abcdef…` (byte-padded); comparing them raw lets a revoked
 * certificate with an odd number of hex digits through.
 */

/** Lower-case hex without leading zeros (`"0"` for zero). */
export function normaliseSerial(serial: string): string {
  const hex = serial.replace(/[:\s]/g, "").toLowerCase().replace(/^0+/, "");
  return hex.length === 0 ? "0" : hex;
}
