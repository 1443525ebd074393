/**
 * A TCP endpoint as a Linux host runs one, reduced to what a NAT experiment shows: the
 * three-way handshake, SYN retransmission and the connect timeout (tcp_retransmit_timer,
 * tcp_write_timeout in net/ipv4/tcp_timer.c), data in one direction and an answer, and the
 * FIN close from either side, the ACK of a FIN in ESTABLISHED delayed as tcp_fin delays it
 * (tcp-delack.ts), the timestamp option when both ends use it (tcp-timestamps.ts). Segments
 * are never lost other than by netfilter, so data is not retransmitted; TIME_WAIT lasts
 * TCP_TIMEWAIT_LEN (60 s). Over IPv6 (tcp_ipv6.c) the same, in IPv6 packets: the family is the
 * addresses'.
 */
import { TcpFlag } from '../packet/ipv4.js';
import type { L3Packet } from '../packet/l3-packet.js';
import { buildTcpInet } from '../packet/build.js';
import { formatInetAddrPort } from '../packet/inet-addr.js';
import { isIpv6 } from '../packet/ipv6-addr.js';
import type { SocketEnv } from './socket-env.js';
import { delackTimerAt, TCP_ATO_MIN } from './tcp-delack.js';
import { notOlder, readTimestamp, TCPOLEN_TSTAMP_ALIGNED, timestampsOn, tsOffset, tsVal } from './tcp-timestamps.js';

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
/**
 * tcp_full_space of a new socket: tcp_win_from_space of sk_rcvbuf, tcp_rmem[1] (131072) less
 * its 1 / 2^tcp_adv_win_scale (1) share of overhead.
 */
const FULL_SPACE = 65536;
const U16_MAX = 0xffff;
/** The window scale of tcp_rmem's default 6 MB maximum (tcp_select_initial_window). */
const WSCALE = 7;

export class TcpSocket {
  state: TcpSockState;
  /** The initial sequence number (random, as secure_tcp_seq makes it unpredictable). */
  private readonly isn: number;
  private sndNxt: number;
  private rcvNxt = 0;
  /** The receive window as last advertised from rcv_wup (tcp_select_window); rcv_ssthresh, never grown here. */
  private rcvWnd = 0;
  private rcvWup = 0;
  private rcvSsthresh = 0;
  /** rx_opt.tstamp_ok: both ends send timestamps; tsoffset; ts_recent, the peer's TSval echoed. */
  private tsOk = false;
  private tsOffset = 0;
  private tsRecent = 0;
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
    this.isn = env.prng.u32();
    this.sndNxt = this.isn;
    this.ipId = env.prng.u16();
  }

  /** tcp_v4_connect (tcp_v6_connect) → tcp_connect: send the SYN and arm the retransmission timer. */
  connect(now: number): void {
    this.env.mib.inc('TcpActiveOpens');
    // tcp_connect_init: a new socket has no ts_recent_stamp, so its window is cut to the whole MSS
    this.initWindow(this.mss);
    this.useTimestamps(timestampsOn(this.env.sysctl), 0);
    this.synSentAt = now;
    this.sendSyn(now);
    this.sndNxt = (this.isn + 1) >>> 0;
    this.armRetransmit(now + this.rto);
  }

  /** A listener's child for an incoming SYN: answer with SYN-ACK (tcp_v4_send_synack). */
  acceptSyn(syn: L3Packet, now: number): void {
    this.rcvNxt = this.rcvWup = (syn.tcpSeq + 1) >>> 0;
    // tcp_conn_request: the SYN's timestamp counts only if this host uses them (tcp_parse_options, estab 0)
    const ts = timestampsOn(this.env.sysctl) ? readTimestamp(syn) : null;
    this.useTimestamps(ts !== null, ts?.val ?? 0);
    // tcp_openreq_init_rwin: the window in whole segments of the MSS less the timestamp option
    this.initWindow(this.mss - (this.tsOk ? TCPOLEN_TSTAMP_ALIGNED : 0));
    this.transmit(TcpFlag.SYN | TcpFlag.ACK, this.isn, 0, now, true);
    this.sndNxt = (this.isn + 1) >>> 0;
  }

  /** tcp_select_initial_window: the space rounded down to whole segments of `mss`, at most 65535; rcv_ssthresh starts there. */
  private initWindow(mss: number): void {
    this.rcvWnd = this.rcvSsthresh = Math.min(FULL_SPACE > mss ? FULL_SPACE - (FULL_SPACE % mss) : FULL_SPACE, U16_MAX);
  }

  /** tstamp_ok, ts_recent (tcp_store_ts_recent) and the offset of secure_tcp_ts_off for this address pair. */
  private useTimestamps(on: boolean, tsRecent: number): void {
    this.tsOk = on;
    this.tsRecent = tsRecent;
    this.tsOffset = on ? tsOffset(this.env.sysctl, this.env.tsSecret, this.local.addr, this.remote.addr) : 0;
  }

  receive(pkt: L3Packet, now: number): void {
    const flags = pkt.tcpFlags;
    if (flags & TcpFlag.RST) return this.reset();
    if (this.state !== TcpSockState.SynSent) this.replaceTsRecent(pkt);
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
    this.transmit(TcpFlag.FIN | TcpFlag.ACK, this.sndNxt, 0, now);
    this.sndNxt = (this.sndNxt + 1) >>> 0;
  }

  /**
   * tcp_replace_ts_recent: a segment that starts at or before rcv_wup (what the last ACK
   * acknowledged) and whose TSval is not older than ts_recent gives ts_recent its TSval.
   */
  private replaceTsRecent(pkt: L3Packet): void {
    if (!this.tsOk || ((pkt.tcpSeq - this.rcvWup) | 0) > 0) return;
    const ts = readTimestamp(pkt);
    if (ts && notOlder(ts.val, this.tsRecent)) this.tsRecent = ts.val;
  }

  private synSentReceive(pkt: L3Packet, now: number): void {
    const flags = pkt.tcpFlags;
    if ((flags & (TcpFlag.SYN | TcpFlag.ACK)) !== (TcpFlag.SYN | TcpFlag.ACK) || pkt.tcpAckSeq !== this.sndNxt) return;
    this.timerGeneration++;
    this.rcvNxt = this.rcvWup = (pkt.tcpSeq + 1) >>> 0;
    // tcp_rcv_synsent_state_process: timestamps stay on only if the SYN-ACK carried them
    const ts = this.tsOk ? readTimestamp(pkt) : null;
    this.useTimestamps(ts !== null, ts?.val ?? 0);
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
    this.transmit(TcpFlag.SYN, this.isn, 0, now, true);
  }

  /** Segments of tcp_current_mss: the MSS less the timestamp option when it is in use. */
  private sendData(bytes: number, now: number): void {
    const mss = this.mss - (this.tsOk ? TCPOLEN_TSTAMP_ALIGNED : 0);
    for (let left = bytes; left > 0; left -= mss) {
      const length = Math.min(left, mss);
      this.transmit(TcpFlag.PSH | TcpFlag.ACK, this.sndNxt, length, now);
      this.sndNxt = (this.sndNxt + length) >>> 0;
    }
  }

  private ack(now: number): void {
    this.transmit(TcpFlag.ACK, this.sndNxt, 0, now);
  }

  /**
   * tcp_select_window: the window still open from rcv_wup, or the free space (rcv_ssthresh
   * rounded down to the scale), whichever is larger, aligned up to the scale; rcv_wup moves to
   * rcv_nxt. rcv_ssthresh does not grow here: tcp_grow_window, for segments of 128 bytes or more
   * (tcp_event_data_recv), is not modelled.
   */
  private selectWindow(): number {
    const unit = 1 << WSCALE;
    const open = (this.rcvWup + this.rcvWnd - this.rcvNxt) | 0;
    const window = Math.max(Math.ceil(open / unit) * unit, this.rcvSsthresh - (this.rcvSsthresh % unit));
    this.rcvWnd = window;
    this.rcvWup = this.rcvNxt;
    return window >> WSCALE;
  }

  private transmit(flags: number, seq: number, payloadLength: number, now: number, syn = false): void {
    const ack = flags & TcpFlag.ACK ? this.rcvNxt : 0;
    // tcp_transmit_skb: a SYN's window is rcv_wnd unscaled (RFC 7323 2.2), any other the scaled tcp_select_window
    const window = syn ? this.rcvWnd : this.selectWindow();
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
      // tcp_syn_options, tcp_synack_options, tcp_established_options: TSval of now, TSecr ts_recent
      ts: this.tsOk ? { val: tsVal(now, this.tsOffset), ecr: this.tsRecent } : undefined,
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
