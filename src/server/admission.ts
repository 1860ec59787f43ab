/**
 * @module Who may hold a connection: counts per listener, per source address, per TLS stage and
 * per certificate identity, and the decision to admit or refuse. Pure bookkeeping (no sockets),
 * so every budget is tested as data; `guard.ts` applies the decisions to node's servers.
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
  | "identity_full";

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
  ): { ticket: Ticket } | { refused: RefusalReason };
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
  let open = 0;
  let ordinary = 0;
  let handshaking = 0;
  const perAddress = new Map<string, { open: number; handshaking: number }>();
  const perIdentity = new Map<string, number>();

  function _refusal(address: string, priority: boolean, tls: boolean): RefusalReason | null {
    if (open >= policy.maxConnections) return "listener_full";
    if (priority) return null;
    if (ordinary >= policy.maxOrdinary) return "listener_full";
    const here = perAddress.get(address);
    if ((here?.open ?? 0) >= policy.maxPerAddress) return "address_full";
    if (!tls) return null;
    if (handshaking >= policy.maxHandshakes) return "handshakes_full";
    if ((here?.handshaking ?? 0) >= policy.maxHandshakesPerAddress) {
      return "address_handshakes_full";
    }
    return null;
  }

  function _leaveHandshake(ticket: Ticket): void {
    if (!ticket.handshaking) return;
    ticket.handshaking = false;
    if (ticket.priority) return;
    handshaking--;
    const here = perAddress.get(ticket.address);
    if (here !== undefined) here.handshaking--;
  }

  return {
    admit(address, { priority, tls }) {
      const refused = _refusal(address, priority, tls);
      if (refused !== null) return { refused };
      open++;
      const ticket: Ticket = {
        address,
        priority,
        handshaking: tls,
        identity: null,
        released: false,
      };
      if (priority) return { ticket };
      ordinary++;
      const here = perAddress.get(address) ?? { open: 0, handshaking: 0 };
      here.open++;
      if (tls) {
        here.handshaking++;
        handshaking++;
      }
      perAddress.set(address, here);
      return { ticket };
    },
    handshaken(ticket, identity) {
      _leaveHandshake(ticket);
      if (identity === null || ticket.priority || ticket.released) return null;
      const held = perIdentity.get(identity) ?? 0;
      if (held >= policy.maxPerIdentity) return "identity_full";
      perIdentity.set(identity, held + 1);
      ticket.identity = identity;
      return null;
    },
    release(ticket) {
      if (ticket.released) return;
      _leaveHandshake(ticket);
      ticket.released = true;
      open--;
      if (ticket.identity !== null) {
        const held = (perIdentity.get(ticket.identity) ?? 1) - 1;
        if (held <= 0) perIdentity.delete(ticket.identity);
        else perIdentity.set(ticket.identity, held);
      }
      if (ticket.priority) return;
      ordinary--;
      const here = perAddress.get(ticket.address);
      if (here === undefined) return;
      here.open--;
      if (here.open <= 0) perAddress.delete(ticket.address);
    },
    stats: () => ({ open, ordinary, handshaking, addresses: perAddress.size }),
  };
}
