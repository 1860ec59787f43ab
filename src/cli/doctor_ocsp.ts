/**
 * @module `doctor`'s OCSP check: the product certificate asked about at its own responder, the way
 * the mTLS listener asks about its callers — a real answer proves the responder is reachable.
 */
import type { Config } from "../config/config.ts";
import { loadCaCertificates } from "../server/ca.ts";
import { createOcspChecker } from "../server/ocsp.ts";
import { parseBundle } from "../certificate/verify.ts";
import { createMemoryLogger } from "../log/logger.ts";

/** One line of `doctor` (the shape doctor.ts lists; declared here so neither imports the other). */
export interface OcspFinding {
  readonly check: "OCSP";
  readonly severity: "ok" | "warn" | "fail";
  readonly message: string;
}

const CHECK = "OCSP";
const finding = (severity: OcspFinding["severity"], message: string): OcspFinding => ({
  check: CHECK,
  severity,
  message,
});

/** What OCSP would say about our own certificate now, under the configured policy. */
export async function checkOcsp(c: Config): Promise<OcspFinding[]> {
  if (!c.mtls.enabled) return [finding("ok", "not used: the mTLS listener is off")];
  const { mode, url, timeoutMs } = c.mtls.ocsp;
  if (mode === "off") {
    return [
      finding(
        "warn",
        "MTLS_OCSP=off: a revocation reaches the mTLS listener only with the next CRL (ocsprest " +
          "writes one every 15 minutes)",
      ),
    ];
  }
  let leaf;
  let caPems: string[];
  try {
    leaf = parseBundle(await Deno.readTextFile(c.clientCertPath))[0];
    caPems = await loadCaCertificates(c.mtls.caPath, c.mtls.caGlob);
  } catch {
    leaf = undefined;
    caPems = [];
  }
  if (leaf === undefined || caPems.length === 0) {
    return [finding("ok", "not checked: no product certificate or CA certificates to ask about")];
  }
  const checker = createOcspChecker({ mode, caPems, url, timeoutMs, log: createMemoryLogger() });
  const verdict = await checker.check(leaf);
  switch (verdict.kind) {
    case "good":
      return [finding("ok", `${verdict.url} answers (the product certificate: good)`)];
    case "revoked":
      return [finding("fail", `${verdict.url} says the product certificate is revoked`)];
    case "unknown":
      return [finding("warn", `${verdict.url} does not know the product certificate`)];
  }
  if (verdict.url === null) {
    return [
      finding(
        mode === "required" ? "fail" : "ok",
        "the product certificate names no OCSP responder (and MTLS_OCSP_URL is unset): " +
          (mode === "required" ? "MTLS_OCSP=required refuses such callers" : "the CRL alone"),
      ),
    ];
  }
  return [
    finding(
      mode === "required" ? "fail" : "warn",
      `no verdict from ${verdict.url}: ${verdict.reason} — ` +
        (mode === "required" ? "callers are refused" : "the CRL decides meanwhile"),
    ),
  ];
}
