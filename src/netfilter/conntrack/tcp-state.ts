/**
 * TCP connection tracking states (enum tcp_conntrack, include/uapi/linux/netfilter/
 * nf_conntrack_tcp.h) and the names `conntrack -L` and the traces print
 * (tcp_conntrack_names, net/netfilter/nf_conntrack_proto_tcp.c).
 */
export enum TcpState {
  None = 0,
  SynSent = 1,
  SynRecv = 2,
  Established = 3,
  FinWait = 4,
  CloseWait = 5,
  LastAck = 6,
  TimeWait = 7,
  Close = 8,
  SynSent2 = 9,
}

export const TCP_STATE_NAME: readonly string[] = ['NONE', 'SYN_SENT', 'SYN_RECV', 'ESTABLISHED', 'FIN_WAIT', 'CLOSE_WAIT', 'LAST_ACK', 'TIME_WAIT', 'CLOSE', 'SYN_SENT2'];
