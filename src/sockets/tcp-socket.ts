/**
 * A TCP endpoint as a Linux host runs one, reduced to what a NAT experiment shows: the
 * three-way handshake, SYN retransmission and the connect timeout (tcp_retransmit_timer,
 * tcp_write_timeout in net/ipv4/tcp_timer.c), data in one direction and an answer, and the
 * FIN close from either side, the ACK of a FIN in ESTABLISHED delayed as tcp_fin delays it
 * (tcp-delack.ts). Segments are never lost other than by netfilter, so data is not
 * retransmitted; TIME_WAIT lasts TCP_TIMEWAIT_LEN (60 s). Over IPv6 (tcp_ipv6.c) the same, in
 * IPv6 packets: the family is the addresses'.
 */
import { TcpFlag } from '../packet/ipv4.js';
import type { L3Packet } from '../packet/l3-packet.js';
import { buildTcpInet } from '../packet/build.js';
import { formatInetAddrPort } from '../packet/inet-addr.js';
import { isIpv6 } from '../packet/ipv6-addr.js';
import type { SocketEnv } from './socket-env.js';
import { delackTimerAt, TCP_ATO_MIN } from './tcp-delack.js';

export enum TcpSockState {
  SynSent = 'SYN_SENT',
  SynRecv = 'SYN_RECV',
  Established = 'ESTABLISHED',
  FinWait1 = 'FIN_WAIT1',
  FinWait2 = 'FIN_WAIT2',
  CloseWait = 'CLOSE_WAIT',
  LastAck = 'LAST_ACK',
  TimeWait = 'TIME_WAIT',
  Closed = 'CLOSED',
}

export interface Endpoint {
  readonly addr: number;
  readonly port: number;
}

/** What the application does with the connection. */
export interface TcpApp {
  /** Bytes the client sends once connected. */
  readonly send: number;
  /** Bytes the server answers with once data arrived. */
  readonly reply: number;
  /** Client: close this long after connecting (ns); null keeps the connection open. */
  readonly holdNs: number | null;
  /** Close this long after reading EOF, the peer's FIN (ns); 0 closes at once. */
  readonly eofHoldNs: number;
}

const SECOND = 1e9;
const TCP_TIMEOUT_INIT = SECOND;
const TCP_RTO_MAX = 120 * SECOND;
const TCP_TIMEWAIT_LEN = 60 * SECOND;
/** The initial window Linux advertises for an MSS of 1460 (10 segments, rounded as tcp_select_initial_window does). */
const SYN_WINDOW = 64240;
/**
 * Over IPv6, the MSS of 1440 of an Ethernet MTU: tcp_select_initial_window rounds 65535 down
 * to whole segments, 45 × 1440 (fixtures/kernel-experiments/ip6-tcp-windows, ip6-masq-router).
 */
const SYN_WINDOW_V6 = 64800;
const WSCALE = 7;
/** The window after the handshake, scaled: 502 << 7 = 64256 bytes. */
const WINDOW = 502;
/** Over IPv6: SYN_WINDOW_V6 aligned up to 1 << WSCALE (tcp_select_window), 507 << 7 = 64896 bytes (ip6-tcp-windows). */
const WINDOW_V6 = 507;

export class TcpSocket {
  state: TcpSockState;
  /** The initial sequence number (random, as secure_tcp_seq makes it unpredictable). */
  private readonly isn: number;
  /** The windows it advertises, in its family. */
  private readonly synWindow: number;
  private readonly window: number;
  private sndNxt: number;
  private rcvNxt = 0;
  private ipId: number;
  private replied = false;
  /** SYN retransmission (client): icsk_retransmits, total_rto, icsk_rto, retrans_stamp. */
  private retransmits = 0;
  private totalRto = 0;
  private rto = TCP_TIMEOUT_INIT;
  private synSentAt = 0;
  /** Bumped whenever a timer is armed, so a stale timer does nothing. */
  private timerGeneration = 0;
  /** icsk_ack.ato in jiffies: 0 until the first data (tcp-delack.ts). */
  private ato = 0;
  /** When the pending delayed ACK's timer runs (icsk_ack.timeout with ICSK_ACK_TIMER); null when none is pending. */
  private delackAt: number | null = null;

  constructor(
    private readonly env: SocketEnv,
    readonly local: Endpoint,
    readonly remote: Endpoint,
    private readonly app: TcpApp,
    private readonly mss: number,
    state: TcpSockState,
  ) {
    this.state = state;
    const v6 = isIpv6(local.addr);
    this.synWindow = v6 ? SYN_WINDOW_V6 : SYN_WINDOW;
    this.window = v6 ? WINDOW_V6 : WINDOW;
    this.isn = env.prng.u32();
    this.sndNxt = this.isn;
    this.ipId = env.prng.u16();
  }

  /** tcp_v4_connect (tcp_v6_connect) → tcp_connect: send the SYN and arm the retransmission timer. */
  connect(now: number): void {
    this.env.mib.inc('TcpActiveOpens');
    this.synSentAt = now;
    this.sendSyn(now);
    this.sndNxt = (this.isn + 1) >>> 0;
    this.armRetransmit(now + this.rto);
  }

  /** A listener's child for an incoming SYN: answer with SYN-ACK (tcp_v4_send_synack). */
  acceptSyn(syn: L3Packet, now: number): void {
    this.rcvNxt = (syn.tcpSeq + 1) >>> 0;
    this.transmit(TcpFlag.SYN | TcpFlag.ACK, this.isn, this.synWindow, 0, now, true);
    this.sndNxt = (this.isn + 1) >>> 0;
  }

  receive(pkt: L3Packet, now: number): void {
    const flags = pkt.tcpFlags;
    if (flags & TcpFlag.RST) return this.reset();
    switch (this.state) {
      case TcpSockState.SynSent:
        return this.synSentReceive(pkt, now);
      case TcpSockState.SynRecv:
        if (!(flags & TcpFlag.ACK) || pkt.tcpAckSeq !== this.sndNxt) return;
        this.state = TcpSockState.Established;
        this.env.mib.inc('TcpPassiveOpens');
        return this.dataAndFin(pkt, now);
      default:
        return this.dataAndFin(pkt, now);
    }
  }

  /** The application closes: FIN (tcp_close → tcp_send_fin). */
  close(now: number): void {
    if (this.state === TcpSockState.Established) this.state = TcpSockState.FinWait1;
    else if (this.state === TcpSockState.CloseWait) this.state = TcpSockState.LastAck;
    else return;
    this.transmit(TcpFlag.FIN | TcpFlag.ACK, this.sndNxt, this.window, 0, now);
    this.sndNxt = (this.sndNxt + 1) >>> 0;
  }

  private synSentReceive(pkt: L3Packet, now: number): void {
    const flags = pkt.tcpFlags;
    if ((flags & (TcpFlag.SYN | TcpFlag.ACK)) !== (TcpFlag.SYN | TcpFlag.ACK) || pkt.tcpAckSeq !== this.sndNxt) return;
    this.timerGeneration++;
    this.rcvNxt = (pkt.tcpSeq + 1) >>> 0;
    this.state = TcpSockState.Established;
    this.ack(now);
    this.env.log(`${this.describe()}: connected after ${this.retransmits + 1} SYN(s)`);
    if (this.app.send > 0) this.sendData(this.app.send, now);
    if (this.app.holdNs !== null) {
      const generation = this.timerGeneration;
      this.env.queue.at(now + this.app.holdNs, () => generation === this.timerGeneration && this.close(this.env.queue.now));
    }
  }

  /** Data and FIN in the synchronised states: acknowledge, answer, and follow the close. */
  private dataAndFin(pkt: L3Packet, now: number): void {
    const flags = pkt.tcpFlags;
    if (flags & TcpFlag.ACK && pkt.tcpAckSeq === this.sndNxt) {
      if (this.state === TcpSockState.FinWait1) this.state = TcpSockState.FinWait2;
      else if (this.state === TcpSockState.LastAck) return this.done('closed');
    }
    const length = pkt.tcpPayloadLength;
    if (length > 0 && pkt.tcpSeq === this.rcvNxt) {
      this.rcvNxt = (this.rcvNxt + length) >>> 0;
      // tcp_event_data_recv: the first data initialises the delayed-ACK engine
      if (this.ato === 0) this.ato = TCP_ATO_MIN;
      if (this.app.reply > 0 && !this.replied) {
        this.replied = true;
        this.sendData(this.app.reply, now);
      } else {
        this.ack(now);
      }
    }
    if (flags & TcpFlag.FIN) this.finReceived(now);
  }

  /**
   * tcp_fin. In ESTABLISHED: CLOSE_WAIT in pingpong mode, the ACK delayed (tcp_send_delayed_ack);
   * the application reads EOF and closes `eofHoldNs` later, and a FIN sent before the delack
   * timer carries the ACK. In FIN_WAIT1/2 the ACK goes at once (tcp_send_ack) and TIME_WAIT follows.
   */
  private finReceived(now: number): void {
    this.rcvNxt = (this.rcvNxt + 1) >>> 0;
    if (this.state !== TcpSockState.Established) {
      this.ack(now);
      if (this.state === TcpSockState.FinWait1 || this.state === TcpSockState.FinWait2) {
        this.state = TcpSockState.TimeWait;
        this.env.queue.at(now + TCP_TIMEWAIT_LEN, () => this.done('TIME_WAIT over'));
      }
      return;
    }
    this.state = TcpSockState.CloseWait;
    this.sendDelayedAck(now);
    if (this.app.eofHoldNs === 0) return this.close(now);
    this.env.queue.at(now + this.app.eofHoldNs, () => this.state === TcpSockState.CloseWait && this.close(this.env.queue.now));
  }

  /** tcp_send_delayed_ack: arm the delack timer; the ACK goes when it runs unless a segment sent before carries it. */
  private sendDelayedAck(now: number): void {
    const at = delackTimerAt(now, this.ato);
    this.delackAt = at;
    this.env.queue.at(at, () => this.delackAt === at && this.delackTimer(at));
  }

  /**
   * tcp_delack_timer_handler: the pending ACK goes out, counted in LINUX_MIB_DELAYEDACKS; in
   * pingpong mode the socket leaves it and ato is TCP_ATO_MIN again.
   */
  private delackTimer(now: number): void {
    this.ato = TCP_ATO_MIN;
    this.env.mib.inc('TcpExtDelayedACKs');
    this.ack(now);
  }

  /**
   * tcp_v4_err (tcp_v6_err): an ICMP (ICMPv6) destination unreachable for a connection still in
   * SYN_SENT ends the connect with the error it maps to (icmp_err_convert, icmpv6_err_convert:
   * port unreachable is ECONNREFUSED). Later states only note a soft error, which natsim does not model.
   */
  icmpError(code: number): void {
    if (this.state !== TcpSockState.SynSent) return;
    this.env.mib.inc('TcpAttemptFails');
    const [table, icmp] = isIpv6(this.local.addr) ? [ICMPV6_UNREACH_ERRNO, 'ICMPv6'] : [ICMP_UNREACH_ERRNO, 'ICMP'];
    this.env.log(`${this.describe()}: connect failed: ${table[code] ?? 'EHOSTUNREACH (no route to host)'} (${icmp} destination unreachable, code ${code})`);
    this.done('ICMP error');
  }

  private reset(): void {
    if (this.state === TcpSockState.SynSent) {
      this.env.mib.inc('TcpAttemptFails');
      this.env.log(`${this.describe()}: connection refused (RST)`);
    } else if (this.state === TcpSockState.Established || this.state === TcpSockState.CloseWait) {
      this.env.mib.inc('TcpEstabResets');
    }
    this.done('reset');
  }

  /**
   * tcp_retransmit_timer for a SYN: count the timeout, give up once tcp_write_timeout says so
   * (more than tcp_syn_retries + tcp_syn_linear_timeouts retransmissions, or the time
   * tcp_model_timeout allows for tcp_syn_retries), else send the SYN again; the RTO stays at 1 s
   * for the first tcp_syn_linear_timeouts retransmissions and doubles after. Kernels before
   * 6.5 have no tcp_syn_linear_timeouts: their SYNs double from the first (kernel/profile.ts).
   */
  private retransmitTimer(now: number): void {
    if (this.state !== TcpSockState.SynSent) return;
    const net = this.env.sysctl;
    const retries = net.num('net.ipv4.tcp_syn_retries');
    const linear = net.num('net.ipv4.tcp_syn_linear_timeouts');
    const timedOut = this.retransmits >= retries + linear || (this.retransmits > 0 && now - this.synSentAt >= modelTimeout(retries, TCP_TIMEOUT_INIT));
    // LINUX_MIB_TCPTIMEOUTS at every RTO; 4.15 counts it after tcp_write_timeout, and only while
    // icsk_retransmits is 0 (`if (icsk->icsk_retransmits == 0) { … mib_idx = LINUX_MIB_TCPTIMEOUTS;`)
    if (net.kernel.tcpTimeoutsEveryRto || (!timedOut && this.retransmits === 0)) this.env.mib.inc('TcpExtTCPTimeouts');
    if (timedOut) {
      this.env.mib.inc('TcpExtTCPAbortOnTimeout');
      this.env.mib.inc('TcpAttemptFails');
      this.env.log(`${this.describe()}: connect failed: connection timed out after ${((now - this.synSentAt) / SECOND).toFixed(1)} s (${this.retransmits + 1} SYNs)`);
      return this.done('timed out');
    }
    this.sendSyn(now);
    this.retransmits++;
    this.totalRto++;
    if (this.totalRto > linear) this.rto = Math.min(this.rto * 2, TCP_RTO_MAX);
    this.armRetransmit(now + this.rto);
  }

  private armRetransmit(at: number): void {
    const generation = ++this.timerGeneration;
    this.env.queue.at(at, () => generation === this.timerGeneration && this.retransmitTimer(this.env.queue.now));
  }

  private sendSyn(now: number): void {
    this.transmit(TcpFlag.SYN, this.isn, this.synWindow, 0, now, true);
  }

  private sendData(bytes: number, now: number): void {
    for (let left = bytes; left > 0; left -= this.mss) {
      const length = Math.min(left, this.mss);
      this.transmit(TcpFlag.PSH | TcpFlag.ACK, this.sndNxt, this.window, length, now);
      this.sndNxt = (this.sndNxt + length) >>> 0;
    }
  }

  private ack(now: number): void {
    this.transmit(TcpFlag.ACK, this.sndNxt, this.window, 0, now);
  }

  private transmit(flags: number, seq: number, window: number, payloadLength: number, now: number, syn = false): void {
    const ack = flags & TcpFlag.ACK ? this.rcvNxt : 0;
    const pkt = buildTcpInet({
      saddr: this.local.addr,
      daddr: this.remote.addr,
      sport: this.local.port,
      dport: this.remote.port,
      seq: seq >>> 0,
      ack,
      flags,
      window,
      ipId: this.ipId,
      ttl: 64,
      syn: syn ? { mss: this.mss, wscale: WSCALE } : undefined,
      payloadLength,
    });
    this.ipId = (this.ipId + 1) & 0xffff;
    // tcp_event_ack_sent: a segment carrying the ACK clears the pending delayed one (inet_csk_clear_xmit_timer ICSK_TIME_DACK)
    if (flags & TcpFlag.ACK) this.delackAt = null;
    // a SYN-ACK leaves from the listener's request socket, not a full one (tcp_v4_send_synack, tcp_v6_send_synack)
    this.env.output(pkt, now, flags !== (TcpFlag.SYN | TcpFlag.ACK));
  }

  private done(why: string): void {
    this.timerGeneration++;
    this.delackAt = null;
    this.state = TcpSockState.Closed;
    this.env.forget(this, why);
  }

  describe(): string {
    return `tcp ${endpointText(this.local)} > ${endpointText(this.remote)}`;
  }
}

/** icmp_err_convert for the destination-unreachable codes a connect sees. */
const ICMP_UNREACH_ERRNO: Readonly<Record<number, string>> = {
  0: 'ENETUNREACH (network is unreachable)',
  1: 'EHOSTUNREACH (no route to host)',
  2: 'ENOPROTOOPT (protocol not available)',
  3: 'ECONNREFUSED (connection refused)',
  13: 'EHOSTUNREACH (no route to host)',
};

/** icmpv6_err_convert's tab_unreach for the ICMPv6 destination-unreachable codes 0-6. */
const ICMPV6_UNREACH_ERRNO: Readonly<Record<number, string>> = {
  0: 'ENETUNREACH (network is unreachable)',
  1: 'EACCES (permission denied)',
  2: 'EHOSTUNREACH (no route to host)',
  3: 'EHOSTUNREACH (no route to host)',
  4: 'ECONNREFUSED (connection refused)',
  5: 'EACCES (permission denied)',
  6: 'EACCES (permission denied)',
};

/** tcp_model_timeout: how long `boundary` exponential retransmissions from `rtoBase` take. */
function modelTimeout(boundary: number, rtoBase: number): number {
  const linearBackoffThresh = Math.floor(Math.log2(TCP_RTO_MAX / rtoBase));
  if (boundary <= linearBackoffThresh) return ((2 << boundary) - 1) * rtoBase;
  return ((2 << linearBackoffThresh) - 1) * rtoBase + (boundary - linearBackoffThresh) * TCP_RTO_MAX;
}

/** 10.0.0.1:80, [fd00::1]:80 (as ss prints them). */
export function endpointText(e: Endpoint): string {
  return formatInetAddrPort(e.addr, e.port);
}
