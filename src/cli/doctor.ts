/**
 * @module `matrixrmapi doctor`: reads the environment, the volumes and the manifest as the service
 * would and says, per check, that it is fine or what to change. Nothing is written or sent.
 */
import type { Config } from "../config/config.ts";
import { checkVolumes } from "../service/volumes.ts";
import { loadCaCertificates } from "../server/ca.ts";
import { createCrlGuard } from "../server/crl.ts";
import { checkOcsp } from "./doctor_ocsp.ts";
import { judgeServerUse } from "../server/purpose.ts";
import { parseBundle } from "../certificate/verify.ts";
import { createMemoryLogger } from "../log/logger.ts";
import { dirname } from "../util/path.ts";
import * as x509 from "../x509/x509.ts";

export type Severity = "ok" | "warn" | "fail";

export interface Finding {
  readonly check: string;
  readonly severity: Severity;
  readonly message: string;
}

const CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";

/** Every check against `config`; each returns at least one finding. */
export async function diagnose(config: Config): Promise<Finding[]> {
  return [
    ...await _volumes(config),
    ...await _productPair(config),
    ...await _serverPair(config),
    ...await _trust(config),
    ...await _revocation(config),
    ...await checkOcsp(config),
    ..._callers(config),
    ...await _oidc(config),
    ...await _healthcheck(),
  ];
}

/** The exit code for a list of findings: 0 all ok, 1 with warnings, 2 with failures. */
export function exitCodeOf(findings: readonly Finding[]): 0 | 1 | 2 {
  if (findings.some((f) => f.severity === "fail")) return 2;
  return findings.some((f) => f.severity === "warn") ? 1 : 0;
}

export function formatFindings(findings: readonly Finding[]): string {
  const tag = { ok: "ok  ", warn: "WARN", fail: "FAIL" } as const;
  return findings.map((f) => `${tag[f.severity]} ${f.check}: ${f.message}`).join("\n");
}

const ok = (check: string, message: string): Finding => ({ check, severity: "ok", message });
const warn = (check: string, message: string): Finding => ({ check, severity: "warn", message });
const fail = (check: string, message: string): Finding => ({ check, severity: "fail", message });

async function _volumes(c: Config): Promise<Finding[]> {
  const findings = await checkVolumes({
    dataPath: c.dataPath,
    kvPath: c.kvPath,
    registrationPath: c.keycloak.registrationPath,
    legacyTokenFile: c.synapse.legacyTokenFile,
    clientCertPath: c.clientCertPath,
    clientKeyPath: c.clientKeyPath,
  }, { selfManagedPair: c.clientCertManagedBy === "self" });
  const out = findings.map((f) => fail("volumes", f.message));
  const oidcDir = dirname(c.keycloak.registrationPath);
  if (!await _exists(oidcDir)) {
    out.push(
      warn(
        "volumes",
        `"${oidcDir}" does not exist: Synapse's registration.json goes there (the shared ` +
          "synapse_config_vol); run prepare-volumes once, or mount the volume",
      ),
    );
  }
  return out.length > 0 ? out : [ok("volumes", `"${c.dataPath}" and its files are usable`)];
}

async function _productPair(c: Config): Promise<Finding[]> {
  const check = "product certificate";
  const pem = await _read(c.clientCertPath);
  if (pem === null) {
    return c.clientCertManagedBy === "external"
      ? [fail(check, `the externally managed pair is missing at "${c.clientCertPath}"`)]
      : [
        ok(check, `none yet at "${c.clientCertPath}": it is enrolled with the manifest's csr_jwt`),
      ];
  }
  let leaf: x509.X509Certificate;
  try {
    leaf = parseBundle(pem)[0]!;
  } catch (err) {
    return [fail(check, `"${c.clientCertPath}" does not parse: ${(err as Error).message}`)];
  }
  const out: Finding[] = [];
  const eku = leaf.getExtension(x509.ExtendedKeyUsageExtension);
  if (eku !== null && !eku.usages.map(String).includes(CLIENT_AUTH)) {
    out.push(fail(check, `"${leaf.subject}" has no clientAuth: RM refuses it for renew_csr`));
  }
  if (leaf.notAfter.getTime() < Date.now()) {
    out.push(fail(check, `"${leaf.subject}" expired on ${leaf.notAfter.toISOString()}`));
  }
  return out.length > 0 ? out : [
    ok(check, `"${leaf.subject}" until ${leaf.notAfter.toISOString()} (${c.clientCertManagedBy})`),
  ];
}

async function _serverPair(c: Config): Promise<Finding[]> {
  const check = "mTLS server certificate";
  if (!c.mtls.enabled) return [ok(check, "the mTLS listener is off (MTLS_ENABLED=false)")];
  const pem = await _read(c.mtls.serverCertPath);
  if (pem === null) {
    return c.mtls.serverCertPath === c.clientCertPath
      ? [warn(check, "none yet: the listener waits for the product certificate")]
      : [fail(check, `cannot read MTLS_SERVER_CERT_PATH "${c.mtls.serverCertPath}"`)];
  }
  try {
    const verdict = judgeServerUse(pem);
    if (verdict.refusal !== null) {
      return [
        fail(
          check,
          `${verdict.refusal}: the listener will not present it. Set MTLS_SERVER_CERT_PATH ` +
            "and MTLS_SERVER_KEY_PATH to a server certificate (e.g. the products' nginx's), or " +
            "MTLS_ENABLED=false behind the products' nginx",
        ),
      ];
    }
    return [
      verdict.warning === null ? ok(check, "allows serverAuth") : warn(check, verdict.warning),
    ];
  } catch (err) {
    return [fail(check, `"${c.mtls.serverCertPath}" does not parse: ${(err as Error).message}`)];
  }
}

async function _trust(c: Config): Promise<Finding[]> {
  try {
    const pems = await loadCaCertificates(c.mtls.caPath, c.mtls.caGlob);
    return [ok("CA", `${pems.length} certificates from "${c.mtls.caPath}" (${c.mtls.caGlob})`)];
  } catch (err) {
    return [fail("CA", (err as Error).message)];
  }
}

async function _revocation(c: Config): Promise<Finding[]> {
  const check = "CRL";
  if (!c.mtls.enabled) return [ok(check, "not used: the mTLS listener is off")];
  if (c.mtls.crlPath === null) {
    return [warn(check, "no MTLS_CRL_PATH: the mTLS listener refuses no revoked certificate")];
  }
  let caPems: string[];
  try {
    caPems = await loadCaCertificates(c.mtls.caPath, c.mtls.caGlob);
  } catch {
    return [fail(check, "cannot be checked without the CA certificates")];
  }
  const guard = await createCrlGuard({
    path: c.mtls.crlPath,
    caPems,
    log: createMemoryLogger(),
    pollMs: 3_600_000,
  });
  try {
    const h = guard.health();
    return h.problems.length === 0
      ? [ok(check, `${h.inForce} CRLs from "${c.mtls.crlPath}" verify and are current`)]
      : h.problems.map((p) => fail(check, p));
  } finally {
    await guard.close();
  }
}

function _callers(c: Config): Finding[] {
  const check = "callers";
  const l5d = c.proxy.l5d;
  if (!c.mtls.enabled && !c.proxy.trustHeader && !l5d.trust) {
    return [
      fail(
        check,
        "no way for RM to be recognised: the mTLS listener is off and no proxy header is trusted " +
          "(set MTLS_TRUST_PROXY_HEADER=true with MTLS_TRUSTED_PROXIES = the products' nginx)",
      ),
    ];
  }
  const out: Finding[] = [];
  for (const block of c.proxy.trustedProxies) {
    const wide = block.bits.length === 32 ? block.prefix < 24 : block.prefix < 64;
    if (wide) {
      out.push(warn(
        check,
        `MTLS_TRUSTED_PROXIES ${block.text} trusts many addresses: any of them can claim to be ` +
          "RM; name the products' nginx's addresses (/32) on every network it shares with us",
      ));
    }
  }
  if (c.mtls.enabled && c.proxy.trustHeader) {
    out.push(ok(check, "RM may call the mTLS listener or come through the trusted proxy"));
  }
  return out.length > 0 ? out : [ok(check, _callerSummary(c))];
}

function _callerSummary(c: Config): string {
  const ways = [
    ...(c.mtls.enabled ? [`mTLS on ${c.mtls.port}`] : []),
    ...(c.proxy.trustHeader
      ? [`${c.proxy.headerName} from ${c.proxy.trustedProxies.length} proxies`]
      : []),
    ...(c.proxy.l5d.trust ? ["Linkerd identities"] : []),
  ];
  return `RM is recognised by ${ways.join(", ")}`;
}

async function _oidc(c: Config): Promise<Finding[]> {
  const check = "login client";
  const text = await _read(c.keycloak.registrationPath);
  if (text === null) {
    return [
      ok(check, `not registered yet: it will be, with redirect URI ${c.keycloak.redirectUri}`),
    ];
  }
  let uris: unknown;
  try {
    uris = JSON.parse(text)?.redirect_uris;
  } catch {
    return [fail(check, `"${c.keycloak.registrationPath}" is not JSON: it is registered anew`)];
  }
  if (Array.isArray(uris) && !uris.includes(c.keycloak.redirectUri)) {
    return [
      warn(
        check,
        `the registered redirect URIs ${JSON.stringify(uris)} do not include Synapse's callback ` +
          `${c.keycloak.redirectUri}: the service corrects the client at start (logins fail until ` +
          "then); check SYNAPSE_PUBLIC_URL against Synapse's public_baseurl",
      ),
    ];
  }
  return [ok(check, `redirect URI ${c.keycloak.redirectUri}`)];
}

async function _healthcheck(): Promise<Finding[]> {
  return await _exists("/bin/sh")
    ? [ok("healthcheck", "a shell exists here: either healthcheck form works")]
    : [
      // Said as information: the compose file is not visible from here.
      ok(
        "healthcheck",
        "no /bin/sh here: a shell-form healthcheck ('matrixrmapi healthcheck || exit 1') never " +
          'passes; use the exec form ["CMD", "/usr/local/bin/matrixrmapi", "healthcheck"]',
      ),
    ];
}

async function _read(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch {
    return null;
  }
}

async function _exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
