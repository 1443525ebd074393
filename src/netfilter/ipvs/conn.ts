/**
 * IPVS connection entries (struct ip_vs_conn, net/netfilter/ipvs/ip_vs_conn.c): client,
 * virtual and real-server address/port of one connection, found from the client side
 * (ip_vs_conn_in_get) or from the real server's side (ip_vs_conn_out_get). Persistence
 * templates live in their own index (ip_vs_ct_in_get). Each entry holds its real server's
 * ActiveConn/InActConn/persistent counters while it lives (ip_vs_bind_dest/ip_vs_unbind_dest).
 */
import type { IpvsDest, IpvsService } from './service.js';
import { INITIAL_TIMEOUT, IpvsDir, nextState } from './conn-state.js';

export class IpvsConn {
  state = 0;
  /** Relative timeout for the state (ns); the entry expires `timeout` after its last packet. */
  timeout = INITIAL_TIMEOUT;
  expires: number;
  /** IP_VS_CONN_F_INACTIVE: counted in InActConn (every new connection starts there). */
  inactive = true;
  /** IP_VS_CONN_F_NOOUTPUT: no reply seen yet on a DR/tunnel connection. */
  noOutput: boolean;
  /** cp->control: the persistence template this connection was scheduled by. */
  control: IpvsConn | null = null;
  /** cp->n_control: connections a template controls; it outlives them all. */
  controlled = 0;

  constructor(
    readonly proto: number,
    readonly caddr: number,
    readonly cport: number,
    readonly vaddr: number,
    readonly vport: number,
    readonly daddr: number,
    readonly dport: number,
    readonly dest: IpvsDest,
    readonly svc: IpvsService,
    /** IP_VS_CONN_F_NFCT: net.ipv4.vs.conntrack was 1 when it was created (cleared on a reschedule). */
    public nfct: boolean,
    /** IP_VS_CONN_F_ONE_PACKET (-o on a UDP service). */
    readonly onePacket: boolean,
    /** IP_VS_CONN_F_TEMPLATE: a persistence template (client network → real server). */
    readonly template: boolean,
    now: number,
  ) {
    this.noOutput = dest.method !== 'masq';
    this.expires = now + this.timeout;
  }

  /** ip_vs_set_state, with the destination counters kept as set_tcp_state keeps them. */
  setState(dir: IpvsDir, tcpFlags: number): void {
    const inputOnly = this.noOutput && dir === IpvsDir.Input;
    if (dir === IpvsDir.Output) this.noOutput = false;
    const change = nextState(this.proto, this.state, dir, tcpFlags, inputOnly, this.inactive);
    if (change.activity === -1) {
      this.dest.activeConns--;
      this.dest.inactConns++;
      this.inactive = true;
    } else if (change.activity === 1) {
      this.dest.activeConns++;
      this.dest.inactConns--;
      this.inactive = false;
    }
    this.state = change.state;
    this.timeout = change.timeout;
  }

  /** ip_vs_conn_put: the timer restarts from now (a one-packet entry expires at once). */
  put(now: number): void {
    this.expires = this.onePacket ? now : now + this.timeout;
  }
}

function inKey(proto: number, caddr: number, cport: number, vaddr: number, vport: number): string {
  return `${proto}:${caddr}:${cport}:${vaddr}:${vport}`;
}

function outKey(proto: number, daddr: number, dport: number, caddr: number, cport: number): string {
  return `${proto}:${daddr}:${dport}:${caddr}:${cport}`;
}

/**
 * ip_vs_conn_hashkey_conn for the reply side: a NAT connection's replies come from the real
 * server, a DR or tunnel connection's (when they pass the director at all) from the VIP.
 */
function replyKey(cp: IpvsConn): string {
  return cp.dest.method === 'masq' ? outKey(cp.proto, cp.daddr, cp.dport, cp.caddr, cp.cport) : outKey(cp.proto, cp.vaddr, cp.vport, cp.caddr, cp.cport);
}

/** How long a persistence template lives on while connections still depend on it (ip_vs_conn_expire's expire_later). */
const TEMPLATE_GRACE = 60e9;

export class IpvsConnTable {
  /** No timer runs out before this (virtual ns): expiry need not look before then. */
  private nextDue = Number.POSITIVE_INFINITY;
  private readonly byIn = new Map<string, IpvsConn>();
  private readonly byOut = new Map<string, IpvsConn>();
  private readonly templates = new Map<string, IpvsConn>();

  /** ip_vs_conn_in_get: a packet from the client, by its source and the virtual address. */
  inGet(proto: number, saddr: number, sport: number, daddr: number, dport: number): IpvsConn | undefined {
    return this.byIn.get(inKey(proto, saddr, sport, daddr, dport));
  }

  /** ip_vs_conn_out_get: a packet from the real server (or, DR, from the VIP), by its source and the client. */
  outGet(proto: number, saddr: number, sport: number, daddr: number, dport: number): IpvsConn | undefined {
    return this.byOut.get(outKey(proto, saddr, sport, daddr, dport));
  }

  /** ip_vs_ct_in_get for persistence templates: client network and virtual service. */
  templateGet(proto: number, cnet: number, vaddr: number, vport: number): IpvsConn | undefined {
    return this.templates.get(inKey(proto, cnet, 0, vaddr, vport));
  }

  /** ip_vs_conn_hash after ip_vs_bind_dest: the entry is counted on its real server. */
  add(cp: IpvsConn): void {
    if (cp.template) {
      cp.dest.persistConns++;
      this.templates.set(inKey(cp.proto, cp.caddr, 0, cp.vaddr, cp.vport), cp);
    } else {
      cp.dest.inactConns++;
      this.byIn.set(inKey(cp.proto, cp.caddr, cp.cport, cp.vaddr, cp.vport), cp);
      this.byOut.set(replyKey(cp), cp);
    }
    this.nextDue = Math.min(this.nextDue, cp.expires);
    bindOverload(cp.dest);
  }

  /** ip_vs_conn_expire: unhash and ip_vs_unbind_dest. */
  remove(cp: IpvsConn): void {
    if (cp.template) {
      this.templates.delete(inKey(cp.proto, cp.caddr, 0, cp.vaddr, cp.vport));
      cp.dest.persistConns--;
    } else {
      this.byIn.delete(inKey(cp.proto, cp.caddr, cp.cport, cp.vaddr, cp.vport));
      this.byOut.delete(replyKey(cp));
      if (cp.inactive) cp.dest.inactConns--;
      else cp.dest.activeConns--;
      if (cp.control) cp.control.controlled--;
    }
    unbindOverload(cp.dest);
  }

  /**
   * The entry whose timer runs out first, if that is by `now`. A template that still controls
   * connections is not due: its timer is re-armed for another minute, from when it ran out.
   */
  nextExpired(now: number): IpvsConn | null {
    if (now < this.nextDue) return null;
    let first: IpvsConn | null = null;
    let nextDue = Number.POSITIVE_INFINITY;
    for (const cp of this.entries()) {
      while (cp.template && cp.controlled > 0 && cp.expires <= now) {
        cp.timeout = TEMPLATE_GRACE;
        cp.expires += TEMPLATE_GRACE;
      }
      if (cp.expires <= now && (first === null || cp.expires < first.expires)) first = cp;
      else nextDue = Math.min(nextDue, cp.expires);
    }
    this.nextDue = first ? Math.min(nextDue, first.expires) : nextDue;
    return first;
  }

  /** ip_vs_conn_put: restart an entry's timer after a packet. */
  put(cp: IpvsConn, now: number): void {
    cp.put(now);
    this.nextDue = Math.min(this.nextDue, cp.expires);
  }

  private *entries(): IterableIterator<IpvsConn> {
    yield* this.byIn.values();
    yield* this.templates.values();
  }

  /** Every entry, connections then templates, as ipvsadm -Lnc walks the table. */
  all(): IpvsConn[] {
    return [...this.entries()];
  }
}

/** ip_vs_bind_dest: a real server with an upper threshold is overloaded once its connections reach it. */
function bindOverload(dest: IpvsDest): void {
  if (dest.upperThreshold !== 0 && dest.activeConns + dest.inactConns >= dest.upperThreshold) dest.overloaded = true;
}

/** ip_vs_unbind_dest: usable again below the lower threshold, or without one below three quarters of the upper. */
function unbindOverload(dest: IpvsDest): void {
  const total = dest.activeConns + dest.inactConns;
  if (dest.lowerThreshold !== 0) {
    if (total < dest.lowerThreshold) dest.overloaded = false;
  } else if (dest.upperThreshold !== 0) {
    if (total * 4 < dest.upperThreshold * 3) dest.overloaded = false;
  } else dest.overloaded = false;
}
