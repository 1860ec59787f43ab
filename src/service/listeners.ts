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
import { createOcspChecker } from "../server/ocsp.ts";
import type { MtlsListenerState } from "../transport/listener_state.ts";
import { judgeServerUse } from "../server/purpose.ts";
import type { Registry } from "../metrics/registry.ts";
import type { ConnectionEvent } from "../server/guard.ts";
import type { AdmissionStats } from "../server/admission.ts";

type Fetch = Parameters<typeof startMtlsListener>[0]["fetch"];

export interface Listening {
  close(): Promise<void>;
}

/** What to tell an operator whose only pair is RM's client-profile product certificate. */
const CONFIGURE_A_SERVER_PAIR = "RM's TLS client refuses it as a server certificate " +
  "(`unsuitable certificate purpose`), so the mTLS listener does not present it. Set " +
  "MTLS_SERVER_CERT_PATH and MTLS_SERVER_KEY_PATH to a server certificate for this host (for " +
  "example the one the products' nginx presents), or set MTLS_ENABLED=false and let the products' " +
  "nginx terminate mTLS (MTLS_TRUST_PROXY_HEADER=true with MTLS_TRUSTED_PROXIES)";

export async function startPlain(
  config: Config,
  fetch: Fetch,
  log: Logger,
  metrics: Registry,
): Promise<Listening> {
  const listener = await startPlainListener({
    fetch,
    hostname: config.bindHost,
    port: config.http.port,
    log,
    ..._budgets(config, metrics, "plain"),
  });
  _observe(metrics, "plain", () => listener.connections());
  return listener;
}

/** The connection budgets of a listener and where its refusals and timeouts are counted. */
function _budgets(config: Config, metrics: Registry, listener: "plain" | "mtls") {
  return {
    limits: config.limits,
    priorityAddresses: config.limits.priorityAddresses,
    onConnectionEvent: (event: ConnectionEvent) =>
      metrics.inc(
        event.kind === "refused"
          ? "matrixrmapi_connections_refused_total"
          : "matrixrmapi_connections_timed_out_total",
        { listener, reason: event.reason },
      ),
  };
}

/** Open connections (and those still in their TLS handshake) as gauges, when scraped. */
function _observe(metrics: Registry, listener: string, stats: () => AdmissionStats): void {
  metrics.onScrape(() => {
    const now = stats();
    metrics.set("matrixrmapi_connections_open", now.open, { listener });
    metrics.set("matrixrmapi_connections_handshaking", now.handshaking, { listener });
  });
}

export interface StartMtlsOptions {
  readonly config: Config;
  readonly fetch: Fetch;
  readonly log: Logger;
  readonly certificate: CertificateManager;
  readonly state: MtlsListenerState;
  readonly signal: AbortSignal;
  readonly metrics: Registry;
}

/**
 * Starts the mTLS listener: at once from the configured files, or — when the server pair is the
 * product certificate — once the certificate manager has one fit to serve (`null` if `signal`
 * aborts first). A pair without serverAuth is never presented: a configured one fails the start,
 * the product's own one keeps the listener down (phase `refused_server_certificate`, logged).
 */
export async function startMtls(o: StartMtlsOptions): Promise<Listening | null> {
  const { config, fetch, log, certificate, state, signal, metrics } = o;
  const managed = config.mtls.serverCertPath === config.clientCertPath &&
    config.mtls.serverKeyPath === config.clientKeyPath;
  let pair: { certPem: string; keyPem: string };
  if (managed) {
    const identity = await _servablePair(certificate, state, log, signal);
    if (identity === null) return null;
    pair = identity;
  } else {
    pair = {
      certPem: await Deno.readTextFile(config.mtls.serverCertPath),
      keyPem: await Deno.readTextFile(config.mtls.serverKeyPath),
    };
    const verdict = _judge(pair.certPem);
    if (verdict.refusal !== null) {
      state.enter("error", verdict.refusal);
      throw new Error(
        `Cannot present MTLS_SERVER_CERT_PATH "${config.mtls.serverCertPath}" as the mTLS ` +
          `server certificate: ${verdict.refusal}`,
      );
    }
    if (verdict.warning !== null) log.warn("mTLS server certificate", { problem: verdict.warning });
  }
  const caPems = await loadCaCertificates(config.mtls.caPath, config.mtls.caGlob);
  const crl = await createCrlGuard({ path: config.mtls.crlPath, caPems, log });
  const { ocsp: ocspConfig } = config.mtls;
  const ocsp = createOcspChecker({
    mode: ocspConfig.mode,
    caPems,
    url: ocspConfig.url,
    timeoutMs: ocspConfig.timeoutMs,
    maxCacheMs: ocspConfig.maxCacheMs,
    crl,
    log,
  });
  state.attach(crl, ocsp);
  const listener = await startMtlsListener({
    fetch,
    hostname: config.bindHost,
    port: config.mtls.port,
    serverCertPem: pair.certPem,
    serverKeyPem: pair.keyPem,
    caPems,
    crl,
    ocsp,
    log,
    ..._budgets(config, metrics, "mtls"),
    exemptCns: [config.manifest.rasenmaeher.certcn],
  }).catch(async (err) => {
    await crl.close();
    throw err;
  });
  state.enter("listening", _judge(pair.certPem).warning);
  _observe(metrics, "mtls", () => listener.connections());
  const unsubscribe = managed
    ? certificate.onChange((next) => {
      const verdict = _judge(next.certPem);
      if (verdict.refusal !== null) {
        // Keep presenting the pair that works; the renewed one is a client certificate only.
        log.error("not presenting the renewed product certificate on the mTLS listener", {
          problem: verdict.refusal,
          todo: CONFIGURE_A_SERVER_PAIR,
        });
        state.enter("listening", `renewed certificate not presented: ${verdict.refusal}`);
        return;
      }
      listener.setCertificate(next.certPem, next.keyPem);
      state.enter("listening", verdict.warning);
    })
    : _watchFixedPair(
      config,
      log,
      state,
      (certPem, keyPem) => listener.setCertificate(certPem, keyPem),
    );
  return {
    close: async () => {
      unsubscribe();
      await listener.close();
      await crl.close();
    },
  };
}

/** The product pair once it is one a TLS client accepts from a server (`null` on abort). */
async function _servablePair(
  certificate: CertificateManager,
  state: MtlsListenerState,
  log: Logger,
  signal: AbortSignal,
): Promise<{ certPem: string; keyPem: string } | null> {
  let identity = await certificate.whenReady(signal);
  while (identity !== null) {
    const verdict = _judge(identity.certPem);
    if (verdict.refusal === null) {
      if (verdict.warning !== null) {
        log.warn("mTLS server certificate", { problem: verdict.warning });
      }
      return identity;
    }
    log.error(
      "the mTLS listener does not start: the product certificate is not a server certificate",
      {
        problem: verdict.refusal,
        todo: CONFIGURE_A_SERVER_PAIR,
      },
    );
    state.enter("refused_server_certificate", `${verdict.refusal}. ${CONFIGURE_A_SERVER_PAIR}`);
    identity = await _nextPair(certificate, identity.certPem, signal);
  }
  return null;
}

/** Resolves with the first pair other than `current` (`null` on abort). */
function _nextPair<T extends { certPem: string }>(
  certificate: { onChange(listener: (identity: T) => void): () => void },
  current: string,
  signal: AbortSignal,
): Promise<T | null> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(null);
    const done = (value: T | null) => {
      unsubscribe();
      signal.removeEventListener("abort", onAbort);
      resolve(value);
    };
    const onAbort = () => done(null);
    const unsubscribe = certificate.onChange((next) => {
      if (next.certPem !== current) done(next);
    });
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

function _judge(certPem: string): ReturnType<typeof judgeServerUse> {
  try {
    return judgeServerUse(certPem);
  } catch (err) {
    return { refusal: `the certificate does not parse: ${(err as Error).message}`, warning: null };
  }
}

/** How often a fixed server pair (the deployment's certificate, renewed by others) is looked at. */
const FIXED_PAIR_WATCH_MS = 30_000;

/**
 * Watches a fixed server pair for a change (Let's Encrypt renews the deployment's certificate;
 * a Kubernetes Secret swaps its files) and presents the new pair from the next handshake on.
 * Returns the function that stops watching.
 */
function _watchFixedPair(
  config: Config,
  log: Logger,
  state: MtlsListenerState,
  present: (certPem: string, keyPem: string) => void,
): () => void {
  const { serverCertPath, serverKeyPath } = config.mtls;
  let last = "";
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const key = async () => {
    const [c, k] = await Promise.all([Deno.stat(serverCertPath), Deno.stat(serverKeyPath)]);
    return [c, k].map((i) => `${i.ino}:${i.size}:${i.mtime?.getTime()}`).join("|");
  };
  async function look(): Promise<void> {
    try {
      const now = await key();
      if (now === last) return;
      if (last === "") {
        last = now; // the pair the listener started with
        return;
      }
      const [certPem, keyPem] = await Promise.all([
        Deno.readTextFile(serverCertPath),
        Deno.readTextFile(serverKeyPath),
      ]);
      const verdict = _judge(certPem);
      if (verdict.refusal !== null) {
        last = now; // said once; looked at again when the files change
        log.error("not presenting the changed MTLS_SERVER_CERT_PATH", { problem: verdict.refusal });
        state.enter("listening", `changed server certificate not presented: ${verdict.refusal}`);
        return;
      }
      present(certPem, keyPem); // throws while key and certificate do not match yet
      last = now;
      log.info("mTLS listener presents the changed server pair", { path: serverCertPath });
      state.enter("listening", verdict.warning);
    } catch (err) {
      // Half-written or briefly missing during a swap: the next look sees the finished pair.
      log.warn("cannot read the mTLS server pair; presenting the one in use", { error: err });
    }
  }
  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => look().finally(schedule), FIXED_PAIR_WATCH_MS);
    Deno.unrefTimer(timer);
  }
  look().finally(schedule);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
