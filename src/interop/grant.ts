/**
 * @module Whether RM's `/interop/add` may grant a product: its CN is a DNS name, the PEM's leaf
 * carries exactly that CN, is valid now and chains to our CA, and the CN is none of the accounts
 * the deployment itself owns (ours, RM's). Pure apart from the signature checks.
 */
import { chainsToTrusted, factsOf, parseBundle } from "../certificate/verify.ts";

/** A host name: labels of letters, digits and inner hyphens, 253 characters at most. */
const DNS_NAME =
  /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

export function isDnsName(value: string): boolean {
  return DNS_NAME.test(value);
}

/** RM sends the PEM with newlines escaped as the two characters `\n`; accept both spellings. */
export function unescapePem(pem: string): string {
  return pem.replaceAll("\\r\\n", "\n").replaceAll("\\n", "\n");
}

export type GrantCheck =
  | { readonly ok: true; readonly serial: string; readonly notAfter: Date }
  | { readonly ok: false; readonly reason: string };

export interface GrantCheckInput {
  readonly certcn: string;
  readonly x509cert: string;
  readonly caPems: readonly string[];
  /** CNs that never get a grant: our own, RM's. Compared without case. */
  readonly refusedCns: readonly string[];
  readonly now: Date;
}

export async function checkGrant(i: GrantCheckInput): Promise<GrantCheck> {
  const refuse = (reason: string): GrantCheck => ({ ok: false, reason });
  if (!isDnsName(i.certcn)) {
    return refuse(`Cannot grant interop to ${JSON.stringify(i.certcn)}: not a DNS name`);
  }
  if (i.refusedCns.some((cn) => cn.toLowerCase() === i.certcn.toLowerCase())) {
    return refuse(
      `Cannot grant interop to ${JSON.stringify(i.certcn)}: it is this deployment's own identity`,
    );
  }
  let leaf;
  try {
    const bundle = parseBundle(unescapePem(i.x509cert));
    leaf = { cert: bundle[0]!, rest: bundle.slice(1) };
  } catch (err) {
    return refuse(`Cannot read x509cert: ${(err as Error).message}`);
  }
  const facts = factsOf(leaf.cert);
  if (facts.cn !== i.certcn) {
    return refuse(
      `Cannot grant interop to ${JSON.stringify(i.certcn)}: the certificate's CN is ${
        JSON.stringify(facts.cn)
      }`,
    );
  }
  if (i.now < facts.notBefore || i.now >= facts.notAfter) {
    return refuse(
      `Cannot grant interop to ${JSON.stringify(i.certcn)}: the certificate is not valid now ` +
        `(${facts.notBefore.toISOString()} – ${facts.notAfter.toISOString()})`,
    );
  }
  const chain = await chainsToTrusted(leaf.cert, leaf.rest, i.caPems);
  if (chain !== null) {
    return refuse(`Cannot grant interop to ${JSON.stringify(i.certcn)}: ${chain}`);
  }
  return { ok: true, serial: facts.serial, notAfter: facts.notAfter };
}
