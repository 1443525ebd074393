/**
 * Netfilter numbers as the kernel defines them: hooks (include/uapi/linux/netfilter.h),
 * IPv4 hook priorities (include/uapi/linux/netfilter_ipv4.h) and verdicts.
 */

/** enum nf_inet_hooks */
export enum Hook {
  PreRouting = 0,
  LocalIn = 1,
  Forward = 2,
  LocalOut = 3,
  PostRouting = 4,
}

export const HOOK_KERNEL_NAME: readonly string[] = [
  'NF_INET_PRE_ROUTING',
  'NF_INET_LOCAL_IN',
  'NF_INET_FORWARD',
  'NF_INET_LOCAL_OUT',
  'NF_INET_POST_ROUTING',
];

/** The hook keywords of nft and the built-in chain names of iptables. */
export const HOOK_NFT_NAME: readonly string[] = ['prerouting', 'input', 'forward', 'output', 'postrouting'];
export const HOOK_IPTABLES_CHAIN: readonly string[] = ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'];

/** enum nf_ip_hook_priorities */
export const Priority = {
  First: -2147483648,
  RawBeforeDefrag: -450,
  ConntrackDefrag: -400,
  Raw: -300,
  SelinuxFirst: -225,
  Conntrack: -200,
  Mangle: -150,
  NatDst: -100,
  Filter: 0,
  Security: 50,
  NatSrc: 100,
  SelinuxLast: 225,
  ConntrackHelper: 300,
  ConntrackConfirm: 2147483647,
  Last: 2147483647,
} as const;

/** nft's named priorities (nft(8) "PRIORITY"): family ip/inet values. */
export const NFT_NAMED_PRIORITY: Readonly<Record<string, number>> = {
  raw: Priority.Raw,
  mangle: Priority.Mangle,
  dstnat: Priority.NatDst,
  filter: Priority.Filter,
  security: Priority.Security,
  srcnat: Priority.NatSrc,
};

/** Netfilter verdicts (NF_DROP ...) as the trace prints them. */
export enum Verdict {
  Drop = 0,
  Accept = 1,
  Stolen = 2,
  Queue = 3,
  Repeat = 4,
  Stop = 5,
}

export const VERDICT_KERNEL_NAME: readonly string[] = ['NF_DROP', 'NF_ACCEPT', 'NF_STOLEN', 'NF_QUEUE', 'NF_REPEAT', 'NF_STOP'];

/** IP protocol numbers natsim knows by name. */
export const IPPROTO = { ICMP: 1, IGMP: 2, TCP: 6, UDP: 17, UDPLITE: 136, SCTP: 132, GRE: 47, ICMPV6: 58 } as const;

/** ICMP or ICMPv6: the protocols whose tuple holds an echo id and type << 8 | code. */
export function isIcmp(proto: number): boolean {
  return proto === IPPROTO.ICMP || proto === IPPROTO.ICMPV6;
}

export const L4PROTO_NAME: Readonly<Record<number, string>> = {
  1: 'icmp',
  6: 'tcp',
  17: 'udp',
  47: 'gre',
  58: 'icmpv6',
  132: 'sctp',
  136: 'udplite',
};
