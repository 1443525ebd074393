/**
 * The SNMP/netstat counters a host keeps (include/uapi/linux/snmp.h), named as `nstat` prints
 * them. Only the ones natsim moves are here: its sockets', and IP reassembly and fragmentation.
 */
export const MIB_NAMES = [
  'TcpActiveOpens',
  'TcpPassiveOpens',
  'TcpAttemptFails',
  'TcpEstabResets',
  'TcpRetransSegs',
  'TcpOutRsts',
  'TcpExtTCPTimeouts',
  'TcpExtTCPLossProbes',
  'TcpExtTCPLossProbeRecovery',
  'TcpExtTCPAbortOnTimeout',
  'TcpExtDelayedACKs',
  'TcpExtDelayedACKLost',
  'TcpExtIPReversePathFilter',
  'UdpNoPorts',
  'IcmpInErrors',
  'IcmpOutDestUnreachs',
  'IcmpOutRedirects',
  'IcmpOutRateLimitGlobal',
  'IcmpOutRateLimitHost',
  'IpInHdrErrors',
  'IpInAddrErrors',
  'IpExtInNoRoutes',
  'IpExtInMcastPkts',
  'IpExtInBcastPkts',
  'IpReasmReqds',
  'IpReasmOKs',
  'IpReasmFails',
  'IpReasmTimeout',
  'IpReasmOverlaps',
  'Ip6InTooBigErrors',
  'Ip6ReasmTimeout',
  'Ip6ReasmFails',
  'Ip6FragOKs',
  'Ip6FragFails',
  'Ip6FragCreates',
  'Icmp6OutDestUnreachs',
  'Icmp6OutRedirects',
  'Icmp6OutRateLimitHost',
  'Udp6NoPorts',
  'IpFragOKs',
  'IpFragFails',
  'IpFragCreates',
  'IpExtInCsumErrors',
] as const;

export type MibName = (typeof MIB_NAMES)[number];

export class Mib {
  private readonly values = new Map<MibName, number>();

  inc(name: MibName): void {
    this.values.set(name, (this.values.get(name) ?? 0) + 1);
  }

  get(name: MibName): number {
    return this.values.get(name) ?? 0;
  }

  /** The counters that moved, in nstat's order. */
  nonZero(): [MibName, number][] {
    return MIB_NAMES.filter((n) => this.get(n) > 0).map((n) => [n, this.get(n)]);
  }
}
