/**
 * @module Who may hold a connection: counts per listener, per source address, per TLS stage and
 * per certificate identity, and the decision to admit or refuse. Pure bookkeeping (no sockets),
 * so every budget is tested as data; `guard.ts` applies the decisions to node's servers.
 *
 * When the handshake budget is full, a newcomer is not refused while another address holds at
 * least two more connections in their handshake than the newcomer's: that address's oldest one is
 * evicted instead. So a few addresses cannot starve anyone of handshakes, RM included, even when
 * RM's address has no priority; only as many addresses as the budget, each with one connection, can.
 */

/** The budgets of one listener. Addresses marked `priority` are held to `maxConnections` only. */
export interface AdmissionPolicy {
  /** Connections open at once on the listener, whoever holds them (a safety cap). */
  readonly maxConnections: number;
  /** Of `maxConnections`, what addresses without priority may hold together. */
  readonly maxOrdinary: number;
  /** Connections one address without priority may hold (any stage). */
  readonly maxPerAddress: number;
  /** Connections still in their TLS handshake, from addresses without priority together. */
  readonly maxHandshakes: number;
  /** Connections in their TLS handshake from one address without priority. */
  readonly maxHandshakesPerAddress: number;
  /** Connections one certificate may hold, unless it is exempt (RM) or its address has priority. */
  readonly maxPerIdentity: number;
}

/** Why a connection was refused; also the `reason` label of the refusal metric. */
export type RefusalReason =
  | "listener_full"
  | "address_full"
  | "handshakes_full"
  | "address_handshakes_full"
  | "identity_full"
  /** Not a refusal of the newcomer: the connection closed to make room for it. */
  | "evicted";

/** One admitted connection, as the bookkeeping knows it. */
export interface Ticket {
  readonly address: string;
  readonly priority: boolean;
  /** Still in the TLS handshake (always false on the plain listener). */
  handshaking: boolean;
  /** The certificate identity counted against `maxPerIdentity`, once known and not exempt. */
  identity: string | null;
  released: boolean;
}

export interface AdmissionStats {
  readonly open: number;
  readonly ordinary: number;
  readonly handshaking: number;
  readonly addresses: number;
}

export interface Admission {
  /** A new connection from `address`: its ticket, or why it is refused. */
  admit(
    address: string,
    options: { priority: boolean; tls: boolean },
  ): { ticket: Ticket; evicted?: Ticket } | { refused: RefusalReason };
  /**
   * The handshake of `ticket` is done and its certificate is `identity` (`null`: exempt from
   * the identity cap). Returns why the connection must now be refused, or `null`.
   */
  handshaken(ticket: Ticket, identity: string | null): RefusalReason | null;
  /** The connection has closed (idempotent). */
  release(ticket: Ticket): void;
  stats(): AdmissionStats;
}

/** Creates the bookkeeping of one listener. */
export function createAdmission(policy: AdmissionPolicy): Admission {
  const state: _State = {
    policy,
    open: 0,
    ordinary: 0,
    handshaking: 0,
    perAddress: new Map(),
    perIdentity: new Map(),
  };
  return {
    admit: (address, options) => _admit(state, address, options),
    handshaken: (ticket, identity) => _handshaken(state, ticket, identity),
    release: (ticket) => _release(state, ticket),
    stats: () => ({
      open: state.open,
      ordinary: state.ordinary,
      handshaking: state.handshaking,
      addresses: state.perAddress.size,
    }),
  };
}

interface _State {
  readonly policy: AdmissionPolicy;
  open: number;
  ordinary: number;
  handshaking: number;
  /** Per address without priority: connections open, and those in their handshake, oldest first. */
  readonly perAddress: Map<string, { open: number; shaking: Set<Ticket> }>;
  readonly perIdentity: Map<string, number>;
}

function _admit(
  state: _State,
  address: string,
  { priority, tls }: { priority: boolean; tls: boolean },
): { ticket: Ticket; evicted?: Ticket } | { refused: RefusalReason } {
  let refused = _refusal(state, address, priority, tls);
  let evicted: Ticket | null = null;
  if (refused === "handshakes_full") {
    evicted = _fairVictim(state, address);
    if (evicted !== null) {
      _release(state, evicted);
      refused = _refusal(state, address, priority, tls);
    }
  }
  if (refused !== null) return { refused };
  state.open++;
  const ticket: Ticket = { address, priority, handshaking: tls, identity: null, released: false };
  const admitted = evicted === null ? { ticket } : { ticket, evicted };
  if (priority) return admitted;
  state.ordinary++;
  const here = state.perAddress.get(address) ?? { open: 0, shaking: new Set<Ticket>() };
  here.open++;
  if (tls) {
    here.shaking.add(ticket);
    state.handshaking++;
  }
  state.perAddress.set(address, here);
  return admitted;
}

function _refusal(
  state: _State,
  address: string,
  priority: boolean,
  tls: boolean,
): RefusalReason | null {
  const { policy } = state;
  if (state.open >= policy.maxConnections) return "listener_full";
  if (priority) return null;
  if (state.ordinary >= policy.maxOrdinary) return "listener_full";
  const here = state.perAddress.get(address);
  if ((here?.open ?? 0) >= policy.maxPerAddress) return "address_full";
  if (!tls) return null;
  if (state.handshaking >= policy.maxHandshakes) return "handshakes_full";
  if ((here?.shaking.size ?? 0) >= policy.maxHandshakesPerAddress) {
    return "address_handshakes_full";
  }
  return null;
}

/** The oldest handshake of an address holding two or more than `address` does, if any. */
function _fairVictim(state: _State, address: string): Ticket | null {
  const mine = state.perAddress.get(address)?.shaking.size ?? 0;
  let most: Set<Ticket> | null = null;
  for (const entry of state.perAddress.values()) {
    if (entry.shaking.size > (most?.size ?? 0)) most = entry.shaking;
  }
  if (most === null || most.size < mine + 2) return null;
  return most.values().next().value ?? null;
}

function _handshaken(state: _State, ticket: Ticket, identity: string | null): RefusalReason | null {
  _leaveHandshake(state, ticket);
  if (identity === null || ticket.priority || ticket.released) return null;
  const held = state.perIdentity.get(identity) ?? 0;
  if (held >= state.policy.maxPerIdentity) return "identity_full";
  state.perIdentity.set(identity, held + 1);
  ticket.identity = identity;
  return null;
}

function _leaveHandshake(state: _State, ticket: Ticket): void {
  if (!ticket.handshaking) return;
  ticket.handshaking = false;
  if (ticket.priority) return;
  state.handshaking--;
  state.perAddress.get(ticket.address)?.shaking.delete(ticket);
}

function _release(state: _State, ticket: Ticket): void {
  if (ticket.released) return;
  _leaveHandshake(state, ticket);
  ticket.released = true;
  state.open--;
  if (ticket.identity !== null) {
    const held = (state.perIdentity.get(ticket.identity) ?? 1) - 1;
    if (held <= 0) state.perIdentity.delete(ticket.identity);
    else state.perIdentity.set(ticket.identity, held);
  }
  if (ticket.priority) return;
  state.ordinary--;
  const here = state.perAddress.get(ticket.address);
  if (here === undefined) return;
  here.open--;
  if (here.open <= 0) state.perAddress.delete(ticket.address);
}
