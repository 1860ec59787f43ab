/**
 * @module Getting a certificate from RM: enrolment with the manifest's one-time `csr_jwt` (the
 * key written first, so a crash keeps it) and renewal over mTLS with a fresh key; RM's reply is
 * verified before anything is written.
 */
import type { SignResult } from "../rm/product_api.ts";
import { setAside, swapPair, writeAtomic, writePair } from "./files.ts";
import { buildCsr, generateKeyPair, importRsaKeyPair, privateKeyPem } from "./keys.ts";
import { checkPair, factsOf, parseBundle } from "./verify.ts";
import { csrJwtExpiry } from "./jwt.ts";
import type { ProductIdentity } from "./types.ts";
import { type CertificateTask, factsLog } from "./task.ts";

/** Enrols with the manifest's csr_jwt; returns how long to wait before the next look. */
export async function enrol(t: CertificateTask, existingKeyPem: string | null): Promise<number> {
  const { o } = t;
  if (t.phases.status().phase === "loading") t.phases.enter("enrolling");
  const jwt = (await o.csrJwt())?.trim() ?? "";
  if (jwt === "") {
    return t.blocked(
      `no product certificate at ${o.paths.certPath} and no rasenmaeher.init.csr_jwt in the ` +
        "manifest: mount the manifest kraftwerk wrote, or place the certificate and key there",
      "blocked",
    );
  }
  const expiry = csrJwtExpiry(jwt);
  if (expiry !== null && expiry <= t.now()) {
    return t.blocked(
      `the manifest's csr_jwt expired at ${expiry.toISOString()} (it is valid for 24 h and ` +
        "works once): have miniwerk issue a new manifest with a fresh csr_jwt",
      "blocked",
    );
  }
  const { keys, keyPem } = await _enrolmentKey(t, existingKeyPem);
  const csr = await buildCsr(keys, o.cn);
  const reply = await o.rm.signCsr(csr, jwt);
  const accepted = await _accept(t, reply, keyPem, o.cn, "enrolment");
  if (accepted.kind === "retry") return accepted.afterMs;
  await writePair(o.paths, keyPem, accepted.pem);
  o.log.info("product certificate enrolled", { cn: o.cn, path: o.paths.certPath });
  return 0; // look again at once: publishes the pair, then reports ready
}

/** The key a previous attempt left (reused: RM may have signed for it), else a new one. */
async function _enrolmentKey(
  t: CertificateTask,
  existingKeyPem: string | null,
): Promise<{ keys: CryptoKeyPair; keyPem: string }> {
  const { o } = t;
  if (existingKeyPem !== null) {
    try {
      const keys = await importRsaKeyPair(existingKeyPem);
      o.log.info("reusing the key a previous enrolment attempt wrote", { path: o.paths.keyPath });
      return { keys, keyPem: existingKeyPem };
    } catch (err) {
      const aside = await setAside(o.paths.keyPath, t.now());
      o.log.warn("set an unreadable product key aside", { moved_to: aside, error: err });
    }
  }
  const keys = await (o.newKeys ?? generateKeyPair)();
  const keyPem = await privateKeyPem(keys);
  await writeAtomic(o.paths.keyPath, keyPem, 0o600); // the key first: a crash keeps it
  return { keys, keyPem };
}

/** Renews `current` over mTLS with a fresh key; returns how long to wait before the next look. */
export async function renew(t: CertificateTask, current: ProductIdentity): Promise<number> {
  const { o } = t;
  t.phases.enter("renewing");
  const cn = current.facts.cn ?? o.cn; // RM renews only for the caller's own name
  const keys = await (o.newKeys ?? generateKeyPair)();
  const keyPem = await privateKeyPem(keys);
  const reply = await o.rm.renewCsr(await buildCsr(keys, cn), current);
  const accepted = await _accept(t, reply, keyPem, cn, "renewal");
  if (accepted.kind === "retry") return accepted.afterMs;
  await swapPair(o.paths, keyPem, accepted.pem);
  o.log.info("product certificate renewed", factsLog(factsOf(parseBundle(accepted.pem)[0]!)));
  return 0; // look again at once: publishes the new pair, then reports ready
}

/** What became of RM's reply: the verified certificate, or how long to wait after a failure. */
type Accepted =
  | { readonly kind: "certificate"; readonly pem: string }
  | { readonly kind: "retry"; readonly afterMs: number };

/** Checks RM's reply: its certificate when it is the pair's and trusted, else when to retry. */
async function _accept(
  t: CertificateTask,
  reply: SignResult,
  keyPem: string,
  cn: string,
  what: "enrolment" | "renewal",
): Promise<Accepted> {
  const retry = (afterMs: number): Accepted => ({ kind: "retry", afterMs });
  const phase = what === "enrolment" ? "enrolling" : "renewing";
  if (!reply.ok) {
    if (reply.kind === "unreachable") {
      const n = t.failed(
        what === "enrolment" ? "waiting_for_rm" : phase,
        `product certificate ${what}: ${reply.message}; retrying`,
        what === "renewal",
      );
      return retry(t.retryMs(n));
    }
    if (what === "enrolment" && reply.kind === "refused") {
      return retry(t.blocked(
        `RM refused to sign the product certificate with the manifest's csr_jwt (${reply.message}). ` +
          "The csr_jwt works once and for 24 h: if this volume lost the certificate it got, " +
          "restore private/ and public/ from a backup, or have miniwerk issue a new manifest",
        "blocked",
      ));
    }
    return retry(t.retryMs(t.failed(phase, `product certificate ${what}: ${reply.message}`, true)));
  }
  const check = await checkPair({
    certPem: reply.certificatePem,
    keyPem,
    caPems: await t.o.caPems(),
    now: t.now(),
    requireCn: cn,
  });
  if (!check.ok) {
    const reason = `product certificate ${what}: refused RM's certificate: ${check.reason}`;
    return retry(t.retryMs(t.failed(phase, reason, true)));
  }
  const pem = reply.certificatePem;
  return { kind: "certificate", pem: pem.endsWith("\n") ? pem : `${pem}\n` };
}
