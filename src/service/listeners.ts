/**
 * @module The service's two listeners around the app: the plain one (healthcheck, the person's
 * pages, metrics) and the mTLS one, which presents the product certificate once there is one and
 * takes every renewed pair without a restart (or a fixed pair from files, when configured so).
 */
import type { Config } from "../config/config.ts";
import type { CertificateManager } from "../certificate/manager.ts";
import type { Logger } from "../log/logger.ts";
import { startPlainListener } from "../server/plain.ts";
import { startMtlsListener } from "../server/mtls.ts";
import { loadCaCertificates } from "../server/ca.ts";
import { createCrlGuard } from "../server/crl.ts";

type Fetch = Parameters<typeof startMtlsListener>[0]["fetch"];

export interface Listening {
  close(): Promise<void>;
}

export async function startPlain(config: Config, fetch: Fetch, log: Logger): Promise<Listening> {
  return await startPlainListener({
    fetch,
    hostname: config.bindHost,
    port: config.http.port,
    log,
    limits: config.limits,
  });
}

/**
 * Starts the mTLS listener: at once from the configured files, or — when the server pair is the
 * product certificate — once the certificate manager has one (`null` if `signal` aborts first).
 */
export async function startMtls(
  config: Config,
  fetch: Fetch,
  log: Logger,
  certificate: CertificateManager,
  signal: AbortSignal,
): Promise<Listening | null> {
  const managed = config.mtls.serverCertPath === config.clientCertPath &&
    config.mtls.serverKeyPath === config.clientKeyPath;
  let pair: { certPem: string; keyPem: string };
  if (managed) {
    const identity = await certificate.whenReady(signal);
    if (identity === null) return null;
    pair = identity;
  } else {
    pair = {
      certPem: await Deno.readTextFile(config.mtls.serverCertPath),
      keyPem: await Deno.readTextFile(config.mtls.serverKeyPath),
    };
  }
  const caPems = await loadCaCertificates(config.mtls.caPath, config.mtls.caGlob);
  const crl = await createCrlGuard({ path: config.mtls.crlPath, caPems, log });
  const listener = await startMtlsListener({
    fetch,
    hostname: config.bindHost,
    port: config.mtls.port,
    serverCertPem: pair.certPem,
    serverKeyPem: pair.keyPem,
    caPems,
    crl,
    log,
    limits: config.limits,
  }).catch(async (err) => {
    await crl.close();
    throw err;
  });
  const unsubscribe = managed
    ? certificate.onChange((next) => listener.setCertificate(next.certPem, next.keyPem))
    : null;
  return {
    close: async () => {
      unsubscribe?.();
      await listener.close();
      await crl.close();
    },
  };
}
