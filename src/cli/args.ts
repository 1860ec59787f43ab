/**
 * @module Command-line parsing for the one entry point: `serve` (default), `healthcheck`,
 * `openapi`, `version`, `help`. Small on purpose: @std/cli is on JSR, which we cannot reach.
 */

export type Command =
  | { readonly name: "serve" }
  | {
    readonly name: "healthcheck";
    readonly host: string;
    readonly port: number;
    readonly timeoutMs: number;
  }
  | {
    readonly name: "status";
    readonly host: string;
    readonly port: number;
    readonly timeoutMs: number;
  }
  | {
    readonly name: "reconcile";
    readonly host: string;
    readonly port: number;
    readonly timeoutMs: number;
    readonly dryRun: boolean;
  }
  | { readonly name: "prepare-volumes"; readonly uid: number; readonly gid: number }
  | { readonly name: "doctor" }
  | {
    readonly name: "interop";
    readonly host: string;
    readonly port: number;
    readonly timeoutMs: number;
    /** `list` the grants, or `revoke` the one of `certcn`. */
    readonly action: "list" | "revoke";
    readonly certcn: string | null;
  }
  | { readonly name: "openapi" }
  | { readonly name: "version" }
  | { readonly name: "help" };

export type ParseResult =
  | { readonly ok: true; readonly command: Command }
  | { readonly ok: false; readonly error: string };

export const USAGE = `Usage: matrixrmapi [command] [options]

Commands:
  serve                     Run the service (default)
  healthcheck [options]     Probe a running service; exit 0 only when it reports healthy
      --host <host>         default: localhost
      --port <port>         default: 8012
      --timeout <seconds>   default: 2
  status [options]          Print a running service's state (bootstrap, pending work)
  reconcile [--dry-run]     Reconcile with Rasenmaeher now (what would change, with --dry-run)
  interop list              Print the products granted interop (BattleLog), when and by whom
  interop revoke <certcn>   Remove a product's grant (RM has no call for it)
                            status, reconcile and interop take --host, --port, --timeout as
                            healthcheck
  prepare-volumes [options] Once, as root: make the data volumes the service's own (the Python
                            image left them root-owned) and create the oidc mount point
      --uid <uid>           default: 65532 (the image's user)
      --gid <gid>           default: 65532
  doctor                    Check the environment, volumes, certificates, CA, CRL, header trust
                            and login client as the service would; exit 0 ok, 1 warnings, 2 failures
  openapi                   Print the OpenAPI document
  version                   Print the version
  help                      Print this text
`;

export function parseArgs(argv: readonly string[]): ParseResult {
  const [first, ...rest] = argv;
  const name = first === undefined || first.startsWith("-") ? "serve" : first;
  const args = first === undefined || first.startsWith("-") ? argv : rest;
  if (name === "--version" || args[0] === "--version") {
    return { ok: true, command: { name: "version" } };
  }
  if (name === "--help" || args[0] === "--help" || args[0] === "-h") {
    return { ok: true, command: { name: "help" } };
  }
  switch (name) {
    case "serve":
    case "doctor":
    case "openapi":
    case "version":
    case "help":
      return args.length === 0 ? { ok: true, command: { name } } : {
        ok: false,
        error: `Cannot parse arguments of "${name}": unexpected ${JSON.stringify(args[0])}`,
      };
    case "healthcheck":
      return _healthcheck(args);
    case "status": {
      const r = _healthcheck(args);
      return r.ok && r.command.name === "healthcheck"
        ? { ok: true, command: { ...r.command, name: "status" } }
        : r;
    }
    case "reconcile": {
      const dryRun = args.includes("--dry-run");
      const r = _healthcheck(args.filter((a) => a !== "--dry-run"));
      if (!r.ok || r.command.name !== "healthcheck") return r;
      return {
        ok: true,
        command: {
          ...r.command,
          name: "reconcile",
          timeoutMs: Math.max(r.command.timeoutMs, 120_000),
          dryRun,
        },
      };
    }
    case "prepare-volumes":
      return _prepareVolumes(args);
    case "interop":
      return _interop(args);
    default:
      return { ok: false, error: `Unknown command ${JSON.stringify(name)}` };
  }
}

function _healthcheck(args: readonly string[]): ParseResult {
  let host = "localhost";
  let port = 8012;
  let timeoutMs = 2000;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const [flag, inline] = arg.includes("=") ? arg.split(/=(.*)/s, 2) : [arg, undefined];
    const value = inline ?? args[++i];
    if (value === undefined) return { ok: false, error: `Option ${flag} needs a value` };
    if (flag === "--host") {
      host = value;
    } else if (flag === "--port") {
      port = Number(value);
      if (!Number.isInteger(port) || port < 1 || port > 65535) {
        return { ok: false, error: `Cannot parse --port ${JSON.stringify(value)}: not a port` };
      }
    } else if (flag === "--timeout") {
      const seconds = Number(value);
      if (!Number.isFinite(seconds) || seconds <= 0) {
        return { ok: false, error: `Cannot parse --timeout ${JSON.stringify(value)}: not seconds` };
      }
      timeoutMs = Math.round(seconds * 1000);
    } else {
      return { ok: false, error: `Unknown option ${JSON.stringify(flag)} for healthcheck` };
    }
  }
  return { ok: true, command: { name: "healthcheck", host, port, timeoutMs } };
}

function _prepareVolumes(args: readonly string[]): ParseResult {
  const ids = { uid: 65532, gid: 65532 };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const [flag, inline] = arg.includes("=") ? arg.split(/=(.*)/s, 2) : [arg, undefined];
    if (flag !== "--uid" && flag !== "--gid") {
      return { ok: false, error: `Unknown option ${JSON.stringify(flag)} for prepare-volumes` };
    }
    const value = inline ?? args[++i];
    if (value === undefined) return { ok: false, error: `Option ${flag} needs a value` };
    const id = Number(value);
    if (!/^\d+$/.test(value) || id > 4_294_967_294) {
      return {
        ok: false,
        error: `Cannot parse ${flag} ${JSON.stringify(value)}: not a numeric id`,
      };
    }
    ids[flag === "--uid" ? "uid" : "gid"] = id;
  }
  return { ok: true, command: { name: "prepare-volumes", ...ids } };
}

function _interop(args: readonly string[]): ParseResult {
  const [action, ...rest] = args;
  if (action !== "list" && action !== "revoke") {
    return {
      ok: false,
      error: `Cannot parse arguments of "interop": expected list or revoke, got ${
        JSON.stringify(action ?? "")
      }`,
    };
  }
  let certcn: string | null = null;
  let options = rest;
  if (action === "revoke") {
    certcn = rest[0] ?? null;
    if (certcn === null || certcn.startsWith("-")) {
      return {
        ok: false,
        error: 'Cannot parse arguments of "interop revoke": <certcn> is missing',
      };
    }
    options = rest.slice(1);
  }
  const r = _healthcheck(options);
  if (!r.ok || r.command.name !== "healthcheck") return r;
  return { ok: true, command: { ...r.command, name: "interop", action, certcn } };
}
