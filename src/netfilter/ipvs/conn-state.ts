/**
 * IPVS's own connection states and timeouts (net/netfilter/ipvs/ip_vs_proto_tcp.c and
 * ip_vs_proto_udp.c). They are not conntrack's: IPVS keeps a coarse TCP state per connection,
 * driven by the flags of packets seen from the client (INPUT) and from the real server (OUTPUT),
 * and counts each connection as active or inactive on its real server.
 */
import { IPPROTO } from '../constants.js';
import { TcpFlag } from '../../packet/ipv4.js';

/** enum IP_VS_TCP_S_* */
export const enum IpvsTcpState {
  None = 0,
  Established = 1,
  SynSent = 2,
  SynRecv = 3,
  FinWait = 4,
  TimeWait = 5,
  Close = 6,
  CloseWait = 7,
  LastAck = 8,
  Listen = 9,
  SynAck = 10,
}

/** tcp_state_name_table */
export const TCP_STATE_NAME: readonly string[] = ['NONE', 'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT', 'TIME_WAIT', 'CLOSE', 'CLOSE_WAIT', 'LAST_ACK', 'LISTEN', 'SYNACK'];

const S = 1000000000;
/** tcp_timeouts, in ns */
const TCP_TIMEOUT: readonly number[] = [2 * S, 900 * S, 120 * S, 60 * S, 120 * S, 120 * S, 10 * S, 60 * S, 30 * S, 120 * S, 120 * S];
/** udp_timeouts[IP_VS_UDP_S_NORMAL] */
const UDP_TIMEOUT = 300 * S;

/** tcp_state_active_table: which states count in ActiveConn. */
const TCP_ACTIVE: readonly boolean[] = [false, true, true, true, false, false, false, false, false, false, true];

/** IP_VS_DIR_* */
export const enum IpvsDir {
  Input = 0,
  Output = 1,
}

const sES = IpvsTcpState.Established, sSS = IpvsTcpState.SynSent, sSR = IpvsTcpState.SynRecv;
const sFW = IpvsTcpState.FinWait, sTW = IpvsTcpState.TimeWait, sCL = IpvsTcpState.Close, sCW = IpvsTcpState.CloseWait;
const sLA = IpvsTcpState.LastAck, sLI = IpvsTcpState.Listen;

/** tcp_states (not the secure_tcp table): [offset + syn/fin/ack/rst][current state] → next. */
const TCP_STATES: readonly (readonly IpvsTcpState[])[] = [
  /* INPUT       sNO, sES, sSS, sSR, sFW, sTW, sCL, sCW, sLA, sLI, sSA */
  /* syn */ [sSR, sES, sES, sSR, sSR, sSR, sSR, sSR, sSR, sSR, sSR],
  /* fin */ [sCL, sCW, sSS, sTW, sTW, sTW, sCL, sCW, sLA, sLI, sTW],
  /* ack */ [sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sCL, sLI, sES],
  /* rst */ [sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sSR],
  /* OUTPUT */
  /* syn */ [sSS, sES, sSS, sSR, sSS, sSS, sSS, sSS, sSS, sLI, sSR],
  /* fin */ [sTW, sFW, sSS, sTW, sFW, sTW, sCL, sTW, sLA, sLI, sTW],
  /* ack */ [sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sLA, sES, sES],
  /* rst */ [sCL, sCL, sSS, sCL, sCL, sTW, sCL, sCL, sCL, sCL, sCL],
  /* INPUT-ONLY */
  /* syn */ [sSR, sES, sES, sSR, sSR, sSR, sSR, sSR, sSR, sSR, sSR],
  /* fin */ [sCL, sFW, sSS, sTW, sFW, sTW, sCL, sCW, sLA, sLI, sTW],
  /* ack */ [sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sCL, sLI, sES],
  /* rst */ [sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sCL],
];

/** tcp_state_idx: RST wins over SYN over FIN over ACK; -1 for none of them. */
function tcpStateIdx(flags: number): number {
  if (flags & TcpFlag.RST) return 3;
  if (flags & TcpFlag.SYN) return 0;
  if (flags & TcpFlag.FIN) return 1;
  if (flags & TcpFlag.ACK) return 2;
  return -1;
}

/** What a state change means for the connection's real server counters. */
export interface StateChange {
  readonly state: number;
  readonly timeout: number;
  /** The connection moved between ActiveConn and InActConn: +1 to active, -1 to inactive, 0 none. */
  readonly activity: -1 | 0 | 1;
}

/**
 * set_tcp_state / udp_state_transition for a packet in `dir`. `inputOnly` is
 * IP_VS_CONN_F_NOOUTPUT (DR and tunnel connections see no replies). `inactive` is the
 * connection's IP_VS_CONN_F_INACTIVE flag.
 */
export function nextState(proto: number, state: number, dir: IpvsDir, tcpFlags: number, inputOnly: boolean, inactive: boolean): StateChange {
  if (proto !== IPPROTO.TCP) return { state, timeout: UDP_TIMEOUT, activity: 0 };
  const idx = tcpStateIdx(tcpFlags);
  const offset = dir === IpvsDir.Output ? 4 : inputOnly ? 8 : 0;
  const next = idx < 0 ? IpvsTcpState.Close : TCP_STATES[offset + idx]![state]!;
  let activity: -1 | 0 | 1 = 0;
  if (next !== state) {
    if (!inactive && !TCP_ACTIVE[next]) activity = -1;
    else if (inactive && TCP_ACTIVE[next]) activity = 1;
  }
  return { state: next, timeout: TCP_TIMEOUT[next]!, activity };
}

/** The state name ipvsadm -Lnc prints (the protocol's state_name; UDP has one state, "UDP"). */
export function stateName(proto: number, state: number): string {
  return proto === IPPROTO.TCP ? TCP_STATE_NAME[state]! : 'UDP';
}

/** A connection's first timeout, before any packet sets its state (ip_vs_conn_new: 3*HZ). */
export const INITIAL_TIMEOUT = 3 * S;
