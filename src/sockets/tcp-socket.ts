/**
 * A TCP endpoint as a Linux host runs one, reduced to what a NAT experiment shows: the
 * three-way handshake, SYN retransmission and the connect timeout (tcp_retransmit_timer,
 * tcp_write_timeout in net/ipv4/tcp_timer.c), data in one direction and an answer, and the
 * FIN close from either side, the ACK of a FIN in ESTABLISHED delayed as tcp_fin delays it
 * (tcp-delack.ts), the timestamp option when both ends use it (tcp-timestamps.ts). A data
 * segment or FIN netfilter dropped goes again: by the tail loss probe (tcp_send_loss_probe)
 * and the retransmission timer, at the RTO of the measured RTT (tcp-rto.ts), until the ACK
 * covers it or tcp_write_timeout gives up. Segments are never lost otherwise, and natsim's
 * receiver keeps no out-of-order queue: SACK, fast retransmit and loss recovery of several
 * segments are not modelled (the socket says so when it meets them). TIME_WAIT lasts
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
import { RttEstimator, TCP_RTO_MAX as TCP_RTO_MAX_JIFFIES, TCP_RTO_MIN_US, TCP_TIMEOUT_FALLBACK, usecsToJiffies, xmitTimerAt } from './tcp-rto.js';
import { endSeq, RtxQueue, type RtxSegment } from './tcp-rtx-queue.js';
import { HZ } from '../netfilter/rules/jiffies.js';

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
/** TCP_RTO_MIN in ns: the rto_base of tcp_model_timeout for a synchronised connection (retransmits_timed_out). */
const TCP_RTO_MIN = TCP_RTO_MIN_US * 1000;
const USEC_PER_JIFFY = 1e6 / HZ;

/** icsk_pending: what the retransmission timer slot is armed for. */
type XmitTimer = 'retrans' | 'loss-probe';
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
  /** snd_una, and the segments from it to snd_nxt (tcp_rtx_queue). */
  private sndUna: number;
  private readonly rtx = new RtxQueue();
  private readonly rtt = new RttEstimator();
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
  /** icsk_retransmits, total_rto; icsk_rto in ns while the SYN goes (its timer is not on jiffies), in jiffies after. */
  private retransmits = 0;
  private totalRto = 0;
  private synRto = TCP_TIMEOUT_INIT;
  private rto = 0;
  /** When the SYN (client) or SYN-ACK (listener's child) went first: the SYN's retrans_stamp, the handshake's RTT. */
  private synSentAt = 0;
  /** retrans_stamp of the synchronised states: the first RTO's retransmission since snd_una last moved. */
  private retransStamp: number | null = null;
  /** tp->tlp_high_seq: snd_nxt when the outstanding loss probe went; null when none is. */
  private tlpHighSeq: number | null = null;
  /** tp->high_seq of TCP_CA_Loss, which an RTO enters (tcp_enter_loss); null in TCP_CA_Open. */
  private lossHighSeq: number | null = null;
  /** SOCK_DEAD: the application closed the socket, an orphan now (tcp_orphan_retries). */
  private orphan = false;
  /** icsk_pending, and a count bumped whenever the timer is armed or cleared, so a stale timer does nothing. */
  private pending: XmitTimer | null = null;
  private timerGeneration = 0;
  /** When TIME_WAIT ends (a retransmitted FIN restarts it); null outside TIME_WAIT. */
  private timeWaitEnd: number | null = null;
  /** What natsim does not model that this socket met, each logged once. */
  private readonly told = new Set<string>();
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
    this.sndNxt = this.sndUna = this.isn;
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
    this.armTimer('retrans', now + this.synRto);
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
    this.synSentAt = now;
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
        // tcp_synack_rtt_meas: the SYN-ACK's RTT (natsim's children never send it twice)
        this.handshakeAcked(now - this.synSentAt, pkt, now);
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
    this.orphan = true;
    this.sendNew(0, true, now);
    this.wrote(now);
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
    this.clearTimer();
    this.rcvNxt = this.rcvWup = (pkt.tcpSeq + 1) >>> 0;
    // tcp_rcv_synsent_state_process: timestamps stay on only if the SYN-ACK carried them
    const ts = this.tsOk ? readTimestamp(pkt) : null;
    this.useTimestamps(ts !== null, ts?.val ?? 0);
    this.state = TcpSockState.Established;
    // tcp_ack in SYN_SENT: the SYN's RTT, unless it went more than once (Karn's rule)
    this.handshakeAcked(this.retransmits === 0 ? now - this.synSentAt : null, pkt, now);
    this.env.log(`${this.describe()}: connected after ${this.retransmits + 1} SYN(s)`);
    this.retransmits = 0;
    this.ack(now);
    if (this.app.send > 0) this.sendData(this.app.send, now);
    // close() does nothing once the socket has left ESTABLISHED
    if (this.app.holdNs !== null) this.env.queue.at(now + this.app.holdNs, () => this.close(this.env.queue.now));
  }

  /**
   * The handshake's RTT sample and the RTO from it; without one, tcp_init_metrics's
   * TCP_TIMEOUT_FALLBACK (RFC 6298 5.7). natsim keeps no tcp_metrics cache of earlier
   * connections' RTTs to the same destination.
   */
  private handshakeAcked(rttNs: number | null, pkt: L3Packet, now: number): void {
    this.sndUna = this.sndNxt;
    if (!this.updateRtt(rttNs, pkt, now)) this.rto = TCP_TIMEOUT_FALLBACK;
  }

  /**
   * tcp_ack_update_rtt: the sample of the ACKed segments, else (Karn's rule, or none) the echoed
   * timestamp's age in ms, at least 1; the RTO follows each sample (tcp_set_rto).
   */
  private updateRtt(rttNs: number | null, pkt: L3Packet, now: number): boolean {
    let us = rttNs === null ? null : Math.floor(rttNs / 1000);
    const ts = us === null && this.tsOk ? readTimestamp(pkt) : null;
    if (ts && ts.ecr !== 0) us = Math.max(1, (tsVal(now, this.tsOffset) - ts.ecr) | 0) * 1000;
    if (us === null) return false;
    this.rtt.sample(us, this.sndUna, this.sndNxt);
    this.rto = this.rtt.rto();
    return true;
  }

  /** Data and FIN in the synchronised states: acknowledge, answer, and follow the close. */
  private dataAndFin(pkt: L3Packet, now: number): void {
    const flags = pkt.tcpFlags;
    if (flags & TcpFlag.ACK) this.ackReceived(pkt, now);
    if (flags & TcpFlag.ACK && pkt.tcpAckSeq === this.sndNxt) {
      if (this.state === TcpSockState.FinWait1) this.state = TcpSockState.FinWait2;
      else if (this.state === TcpSockState.LastAck) return this.done('closed');
    }
    const length = pkt.tcpPayloadLength;
    const fin = (flags & TcpFlag.FIN) !== 0;
    if (length === 0 && !fin) return;
    if (((pkt.tcpSeq - this.rcvNxt) | 0) > 0) return this.outOfOrder(now);
    if (((pkt.tcpSeq + length + (fin ? 1 : 0) - this.rcvNxt) | 0) <= 0) return this.duplicate(now);
    if (length > 0) {
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
    if (fin) this.finReceived(now);
  }

  /**
   * A segment past a hole (tcp_data_queue_ofo): the kernel queues it and ACKs at once with a
   * SACK block, and its peer retransmits fast (tcp_fastretrans_alert, RACK). natsim keeps no
   * out-of-order queue and sends no SACK: the duplicate ACK goes, the segment is dropped, and
   * the peer sends it again on its retransmission timer.
   */
  private outOfOrder(now: number): void {
    this.notModelled('a segment after a lost one: out-of-order queueing, SACK and fast retransmit (only the retransmission timer and the tail loss probe)');
    this.ack(now);
  }

  /** Say once per socket what the kernel would do here that natsim does not. */
  private notModelled(what: string): void {
    if (this.told.has(what)) return;
    this.told.add(what);
    this.env.log(`${this.describe()}: not modelled: ${what}`);
  }

  /**
   * A segment wholly before rcv_nxt, its data or FIN already taken: its ACK was lost. tcp_data_queue
   * ("A retransmit") counts LINUX_MIB_DELAYEDACKLOST and ACKs at once (its D-SACK block, RFC 2883, is
   * not modelled); in TIME_WAIT a retransmitted FIN is ACKed and restarts the timer
   * (tcp_timewait_state_process, inet_twsk_reschedule).
   */
  private duplicate(now: number): void {
    if (this.state === TcpSockState.TimeWait) this.enterTimeWait(now);
    else {
      this.env.mib.inc('TcpExtDelayedACKLost');
      this.notModelled('the D-SACK block of the ACK of a duplicate segment');
    }
    this.ack(now);
  }

  /**
   * tcp_ack for the synchronised states: the segments it covers leave the retransmission queue
   * (tcp_clean_rtx_queue), the RTT is sampled, icsk_retransmits is 0 again, TCP_CA_Loss ends once
   * snd_una reaches high_seq (tcp_process_loss), a loss probe is judged (tcp_process_tlp_ack),
   * and the timer is armed again for what is left (tcp_set_xmit_timer).
   */
  private ackReceived(pkt: L3Packet, now: number): void {
    const ack = pkt.tcpAckSeq;
    const advanced = ((ack - this.sndUna) | 0) > 0 && ((ack - this.sndNxt) | 0) <= 0;
    if (advanced) {
      const acked = this.rtx.clean(ack, now);
      this.sndUna = ack;
      this.retransmits = 0;
      this.retransStamp = null;
      if (acked.segments > 0) this.updateRtt(acked.rttNs, pkt, now);
      if (this.lossHighSeq !== null && ((ack - this.lossHighSeq) | 0) >= 0) this.lossHighSeq = null;
    }
    if (this.tlpHighSeq !== null) this.processTlpAck(ack, advanced || pkt.tcpPayloadLength > 0 || (pkt.tcpFlags & TcpFlag.FIN) !== 0);
    if (advanced) this.setXmitTimer(now);
  }

  /**
   * tcp_process_tlp_ack: an ACK beyond tlp_high_seq means the probe repaired a loss
   * (LINUX_MIB_TCPLOSSPROBERECOVERY; tcp_init_cwnd_reduction ends the episode); a pure
   * duplicate ACK means the original and the probe both arrived. natsim's probes always
   * retransmit (its data goes out at once, none waits in the write queue), so tlp_retrans is 1.
   */
  private processTlpAck(ack: number, notDup: boolean): void {
    const past = (ack - this.tlpHighSeq!) | 0;
    if (past < 0) return;
    if (past > 0) this.env.mib.inc('TcpExtTCPLossProbeRecovery');
    if (past > 0 || !notDup) this.tlpHighSeq = null;
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
      if (this.state === TcpSockState.FinWait1 || this.state === TcpSockState.FinWait2) this.enterTimeWait(now);
      return;
    }
    this.state = TcpSockState.CloseWait;
    this.sendDelayedAck(now);
    if (this.app.eofHoldNs === 0) return this.close(now);
    this.env.queue.at(now + this.app.eofHoldNs, () => this.state === TcpSockState.CloseWait && this.close(this.env.queue.now));
  }

  /** tcp_time_wait (and inet_twsk_reschedule): TIME_WAIT for TCP_TIMEWAIT_LEN from now. */
  private enterTimeWait(now: number): void {
    this.state = TcpSockState.TimeWait;
    const end = now + TCP_TIMEWAIT_LEN;
    this.timeWaitEnd = end;
    this.env.queue.at(end, () => this.timeWaitEnd === end && this.done('TIME_WAIT over'));
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
  private synRetransmitTimer(now: number): void {
    const net = this.env.sysctl;
    const retries = net.num('net.ipv4.tcp_syn_retries');
    const linear = net.num('net.ipv4.tcp_syn_linear_timeouts');
    const timedOut = this.retransmits >= retries + linear || (this.retransmits > 0 && now - this.synSentAt >= modelTimeout(retries, TCP_TIMEOUT_INIT));
    this.countTimeout(timedOut);
    if (timedOut) {
      this.env.mib.inc('TcpExtTCPAbortOnTimeout');
      this.env.mib.inc('TcpAttemptFails');
      this.env.log(`${this.describe()}: connect failed: connection timed out after ${((now - this.synSentAt) / SECOND).toFixed(1)} s (${this.retransmits + 1} SYNs)`);
      return this.done('timed out');
    }
    this.sendSyn(now);
    this.retransmits++;
    this.totalRto++;
    if (this.totalRto > linear) this.synRto = Math.min(this.synRto * 2, TCP_RTO_MAX);
    this.armTimer('retrans', now + this.synRto);
  }

  /**
   * LINUX_MIB_TCPTIMEOUTS at every RTO; 4.15 counts it after tcp_write_timeout, and only while
   * icsk_retransmits is 0 (`if (icsk->icsk_retransmits == 0) { … mib_idx = LINUX_MIB_TCPTIMEOUTS;`).
   */
  private countTimeout(timedOut: boolean): void {
    if (this.env.sysctl.kernel.tcpTimeoutsEveryRto || (!timedOut && this.retransmits === 0)) this.env.mib.inc('TcpExtTCPTimeouts');
  }

  /**
   * tcp_retransmit_timer in the synchronised states: count the timeout, give up once
   * tcp_write_timeout says so, else enter TCP_CA_Loss (tcp_enter_loss: no loss probe until
   * snd_una reaches snd_nxt of now), send the oldest segment again (tcp_retransmit_skb,
   * TCPCB_RETRANS) and double the RTO (icsk_rto << 1, at most TCP_RTO_MAX; thin streams' linear
   * timeouts, tcp_thin_linear_timeouts, are off by default and not modelled). After an RTO the
   * kernel sends the queue's other segments as ACKs come (tcp_xmit_retransmit_queue); natsim
   * waits for the next RTO for each, and says so.
   */
  private dataRetransmitTimer(now: number): void {
    this.tlpHighSeq = null;
    const timedOut = this.writeTimedOut(now);
    this.countTimeout(timedOut);
    if (timedOut) return this.writeErr(now);
    if (this.rtx.packetsOut > 1) this.notModelled('loss recovery of several unacknowledged segments after an RTO (tcp_xmit_retransmit_queue): each goes again on its own RTO');
    this.lossHighSeq = this.sndNxt;
    this.retransmits++;
    this.totalRto++;
    const head = this.rtx.head()!;
    head.retransmitted = true;
    this.retransmit(head, now);
    // tcp_retransmit_skb (not the loss probe's __tcp_retransmit_skb): retrans_stamp at the first
    this.retransStamp ??= now;
    this.rto = Math.min(this.rto * 2, TCP_RTO_MAX_JIFFIES);
    this.armXmitTimer('retrans', this.rto, now);
  }

  /**
   * tcp_write_timeout for the synchronised states (retransmits_timed_out): the time since the
   * first retransmission has passed what tcp_retries2 exponential RTOs from TCP_RTO_MIN take;
   * for an orphan, tcp_orphan_retries's (0 meaning 8 while the RTO is below TCP_RTO_MAX).
   */
  private writeTimedOut(now: number): boolean {
    if (this.retransmits === 0 || this.retransStamp === null) return false;
    const net = this.env.sysctl;
    const orphanRetries = net.num('net.ipv4.tcp_orphan_retries') || (this.rto < TCP_RTO_MAX_JIFFIES ? 8 : 0);
    const retries = this.orphan ? orphanRetries : net.num('net.ipv4.tcp_retries2');
    return now - this.retransStamp >= modelTimeout(retries, TCP_RTO_MIN);
  }

  /** tcp_write_err: ETIMEDOUT, LINUX_MIB_TCPABORTONTIMEOUT, and tcp_done (tcp_set_state counts an established connection's end in TCP_MIB_ESTABRESETS). */
  private writeErr(now: number): void {
    this.env.mib.inc('TcpExtTCPAbortOnTimeout');
    if (this.state === TcpSockState.Established || this.state === TcpSockState.CloseWait) this.env.mib.inc('TcpEstabResets');
    this.env.log(`${this.describe()}: connection timed out (ETIMEDOUT) ${((now - this.retransStamp!) / SECOND).toFixed(1)} s after the first retransmission by the RTO, ${this.retransmits} of them`);
    this.done('timed out');
  }

  /**
   * tcp_send_loss_probe: with no probe outstanding, send the newest segment again
   * (__tcp_retransmit_skb), note snd_nxt in tlp_high_seq and count LINUX_MIB_TCPLOSSPROBES;
   * the RTO then runs from now (icsk_pending cleared), else from the oldest segment's send.
   */
  private sendLossProbe(now: number): void {
    if (this.tlpHighSeq === null) {
      this.retransmit(this.rtx.tail()!, now);
      this.tlpHighSeq = this.sndNxt;
      this.env.mib.inc('TcpExtTCPLossProbes');
      this.pending = null;
    }
    this.rearmRto(now);
  }

  /** __tcp_retransmit_skb: the segment again, its send time now, counted in TCP_MIB_RETRANSSEGS. */
  private retransmit(s: RtxSegment, now: number): void {
    this.transmit(s.fin ? TcpFlag.FIN | TcpFlag.ACK : TcpFlag.PSH | TcpFlag.ACK, s.seq, s.length, now);
    s.sentAt = now;
    this.env.mib.inc('TcpRetransSegs');
  }

  /** tcp_set_xmit_timer: a loss probe if one may go, else the RTO. */
  private setXmitTimer(now: number): void {
    if (!this.scheduleLossProbe(now, true)) this.rearmRto(now);
  }

  /**
   * tcp_schedule_loss_probe: with tcp_early_retrans 3 or 4, segments in flight and the
   * connection in TCP_CA_Open, arm the probe (tcp-rto.ts) instead of the RTO, never after the
   * RTO's time: icsk_rto from now when an ACK advanced, else from the oldest segment's send
   * (tcp_rto_delta_us). tcp_is_sack holds: natsim's SYNs and SYN-ACKs offer SACK-permitted.
   */
  private scheduleLossProbe(now: number, advancingRto: boolean): boolean {
    const earlyRetrans = this.env.sysctl.num('net.ipv4.tcp_early_retrans');
    if ((earlyRetrans !== 3 && earlyRetrans !== 4) || this.rtx.packetsOut === 0 || this.lossHighSeq !== null) return false;
    const rtoDeltaUs = advancingRto ? this.rto * USEC_PER_JIFFY : this.rtoDeltaUs(now);
    this.armXmitTimer('loss-probe', this.rtt.lossProbeTimeout(this.rtx.packetsOut, rtoDeltaUs), now);
    return true;
  }

  /** tcp_rearm_rto: the RTO for what is in flight (from the oldest segment's send when a loss probe held the timer), or no timer. */
  private rearmRto(now: number): void {
    if (this.rtx.packetsOut === 0) return this.clearTimer();
    const rto = this.pending === 'loss-probe' ? usecsToJiffies(Math.max(this.rtoDeltaUs(now), 1)) : this.rto;
    this.armXmitTimer('retrans', rto, now);
  }

  /** tcp_rto_delta_us: how far ahead the RTO of the oldest segment in flight is. */
  private rtoDeltaUs(now: number): number {
    return this.rto * USEC_PER_JIFFY - Math.floor((now - this.rtx.head()!.sentAt) / 1000);
  }

  /** inet_csk_reset_xmit_timer in jiffies (tcp-rto.ts's xmitTimerAt), at most TCP_RTO_MAX. */
  private armXmitTimer(what: XmitTimer, timeout: number, now: number): void {
    this.armTimer(what, xmitTimerAt(now, Math.min(timeout, TCP_RTO_MAX_JIFFIES)));
  }

  /** The retransmission timer slot (icsk_retransmit_timer): one timer, for `what`, at `at`. */
  private armTimer(what: XmitTimer, at: number): void {
    this.pending = what;
    const generation = ++this.timerGeneration;
    this.env.queue.at(at, () => generation === this.timerGeneration && this.writeTimer(this.env.queue.now));
  }

  private clearTimer(): void {
    this.pending = null;
    this.timerGeneration++;
  }

  /** tcp_write_timer_handler: the loss probe, or the retransmission timer (icsk_pending cleared first). */
  private writeTimer(now: number): void {
    if (this.pending === 'loss-probe') return this.sendLossProbe(now);
    this.pending = null;
    if (this.state === TcpSockState.SynSent) this.synRetransmitTimer(now);
    else this.dataRetransmitTimer(now);
  }

  private sendSyn(now: number): void {
    this.transmit(TcpFlag.SYN, this.isn, 0, now, true);
  }

  /** Segments of tcp_current_mss: the MSS less the timestamp option when it is in use. */
  private sendData(bytes: number, now: number): void {
    const mss = this.mss - (this.tsOk ? TCPOLEN_TSTAMP_ALIGNED : 0);
    for (let left = bytes; left > 0; left -= mss) this.sendNew(Math.min(left, mss), false, now);
    this.wrote(now);
  }

  /**
   * A new segment, data or the FIN, into the retransmission queue; tcp_event_new_data_sent arms
   * the RTO when it is the only one in flight or a loss probe held the timer.
   */
  private sendNew(length: number, fin: boolean, now: number): void {
    const first = this.rtx.packetsOut === 0;
    this.transmit(fin ? TcpFlag.FIN | TcpFlag.ACK : TcpFlag.PSH | TcpFlag.ACK, this.sndNxt, length, now);
    this.rtx.push(this.sndNxt, length, fin, now);
    this.sndNxt = endSeq(this.rtx.tail()!);
    if (first || this.pending === 'loss-probe') this.rearmRto(now);
  }

  /** The end of tcp_write_xmit: one loss probe per tail loss episode (tcp_schedule_loss_probe). */
  private wrote(now: number): void {
    this.scheduleLossProbe(now, false);
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
    this.clearTimer();
    this.timeWaitEnd = null;
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
