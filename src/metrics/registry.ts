/**
 * @module A small Prometheus registry: counters, gauges and summaries (sum and count) with
 * labels, rendered in the text exposition format. No global state: `main.ts` owns one.
 */

type Labels = Readonly<Record<string, string>>;

interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: "counter" | "gauge" | "summary";
  readonly values: Map<string, { labels: Labels; value: number; count?: number }>;
}

export interface Registry {
  inc(name: string, labels?: Labels, by?: number): void;
  set(name: string, value: number, labels?: Labels): void;
  observe(name: string, value: number, labels?: Labels): void;
  /** Gauges computed when scraped (pending work, bootstrap state). */
  onScrape(fn: () => Promise<void> | void): void;
  render(): Promise<string>;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

function _key(labels: Labels): string {
  return Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`).join(",");
}

function _labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) =>
    `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`
  );
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

export function createRegistry(
  definitions: ReadonlyArray<{ name: string; help: string; type: Family["type"] }>,
): Registry {
  const families = new Map<string, Family>();
  for (const d of definitions) {
    if (!NAME.test(d.name)) {
      throw new Error(`Cannot register metric ${JSON.stringify(d.name)}: bad name`);
    }
    families.set(d.name, { ...d, values: new Map() });
  }
  const scrapers: Array<() => Promise<void> | void> = [];
  const family = (name: string): Family => {
    const f = families.get(name);
    if (f === undefined) throw new Error(`Unknown metric ${JSON.stringify(name)}`);
    return f;
  };
  return {
    inc(name, labels = {}, by = 1) {
      const f = family(name);
      const entry = f.values.get(_key(labels)) ?? { labels, value: 0 };
      entry.value += by;
      f.values.set(_key(labels), entry);
    },
    set(name, value, labels = {}) {
      family(name).values.set(_key(labels), { labels, value });
    },
    observe(name, value, labels = {}) {
      const f = family(name);
      const entry = f.values.get(_key(labels)) ?? { labels, value: 0, count: 0 };
      entry.value += value;
      entry.count = (entry.count ?? 0) + 1;
      f.values.set(_key(labels), entry);
    },
    onScrape(fn) {
      scrapers.push(fn);
    },
    async render() {
      for (const fn of scrapers) await fn();
      let out = "";
      for (const f of families.values()) {
        out += `# HELP ${f.name} ${f.help}\n# TYPE ${f.name} ${f.type}\n`;
        for (const { labels, value, count } of f.values.values()) {
          if (f.type === "summary") {
            out += `${f.name}_sum${_labelText(labels)} ${value}\n${f.name}_count${
              _labelText(labels)
            } ${count ?? 0}\n`;
          } else {
            out += `${f.name}${_labelText(labels)} ${value}\n`;
          }
        }
      }
      return out;
    },
  };
}

/** The service's metrics. */
export const METRICS = [
  {
    name: "matrixrmapi_callbacks_total",
    help: "Lifecycle callbacks by route and result.",
    type: "counter",
  },
  {
    name: "matrixrmapi_pending_wishes",
    help: "People whose wish is not yet applied.",
    type: "gauge",
  },
  {
    name: "matrixrmapi_pending_oldest_age_seconds",
    help: "Age of the oldest unapplied wish.",
    type: "gauge",
  },
  {
    name: "matrixrmapi_synapse_requests_total",
    help: "Synapse calls by endpoint and status.",
    type: "counter",
  },
  {
    name: "matrixrmapi_synapse_request_seconds",
    help: "Synapse call latency by endpoint.",
    type: "summary",
  },
  {
    name: "matrixrmapi_reconcile_runs_total",
    help: "Reconciliation runs by result.",
    type: "counter",
  },
  {
    name: "matrixrmapi_reconcile_corrections_total",
    help: "Changes made by reconciliation, by kind.",
    type: "counter",
  },
  { name: "matrixrmapi_bootstrap_ready", help: "1 when the bootstrap is complete.", type: "gauge" },
  {
    name: "matrixrmapi_bootstrap_phase",
    help: "1 for the current bootstrap phase.",
    type: "gauge",
  },
  {
    name: "matrixrmapi_certificate_expiry_days",
    help: "Days until the product certificate expires (absent while there is none).",
    type: "gauge",
  },
  {
    name: "matrixrmapi_certificate_phase",
    help: "1 for the product certificate's current phase.",
    type: "gauge",
  },
  {
    name: "matrixrmapi_mtls_listener_phase",
    help: "1 for the current phase of the direct mTLS listener.",
    type: "gauge",
  },
  {
    name: "matrixrmapi_crl_lists_in_force",
    help: "Issuers whose CRL the mTLS listener enforces now.",
    type: "gauge",
  },
  {
    name: "matrixrmapi_crl_problems",
    help: "Problems with the configured CRL file (0 when every CRL verified and is current).",
    type: "gauge",
  },
  {
    name: "matrixrmapi_ocsp_lookups_total",
    help: "OCSP lookups for client certificates since start (cache hits not counted).",
    type: "counter",
  },
  {
    name: "matrixrmapi_ocsp_failures_total",
    help: "OCSP lookups since start that ended without a believable answer.",
    type: "counter",
  },
  {
    name: "matrixrmapi_ocsp_revoked_total",
    help: "OCSP answers since start that said a client certificate is revoked.",
    type: "counter",
  },
  {
    name: "matrixrmapi_ocsp_degraded",
    help: "1 while the last OCSP lookup gave no verdict (the CRL decides, or required refuses).",
    type: "gauge",
  },
  {
    name: "matrixrmapi_oidc_client_phase",
    help: "1 for the current phase of Synapse's OIDC client registration in Keycloak.",
    type: "gauge",
  },
  {
    name: "matrixrmapi_certificate_failures",
    help: "Consecutive failed enrolment or renewal attempts (0 when the last one worked).",
    type: "gauge",
  },
  {
    name: "matrixrmapi_kv_writes_total",
    help: "Committed writes of lifecycle records (wishes, the pending index, the login watermark).",
    type: "counter",
  },
  {
    name: "matrixrmapi_task_failures_total",
    help: "Background tasks that failed (and were started again), or periodic runs that failed.",
    type: "counter",
  },
  {
    name: "matrixrmapi_interop_grants",
    help: "Products granted interop (RM's /interop/add).",
    type: "gauge",
  },
  {
    name: "matrixrmapi_interop_authz_total",
    help: "Answers of GET /api/v1/interop/authz, by HTTP status.",
    type: "counter",
  },
  {
    name: "matrixrmapi_interop_ingest_rooms",
    help: "Rooms the interop ingest bot is joined to, after the last pass.",
    type: "gauge",
  },
  {
    name: "matrixrmapi_connections_refused_total",
    help: "Connections closed as soon as they were accepted or verified, by listener and budget.",
    type: "counter",
  },
  {
    name: "matrixrmapi_connections_timed_out_total",
    help: "Connections closed for slowness, by listener and stage (handshake, head, body).",
    type: "counter",
  },
  {
    name: "matrixrmapi_connections_open",
    help: "Connections open now, by listener.",
    type: "gauge",
  },
  {
    name: "matrixrmapi_connections_handshaking",
    help: "Connections from addresses without priority still in their TLS handshake, by listener.",
    type: "gauge",
  },
] as const;
