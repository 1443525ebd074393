/**
 * Kernel profiles: the behaviours natsim models that differ between the Linux versions it can
 * behave as, and only those. Everything else — the TCP tracker, the other timeouts, address
 * choice, MASQUERADE, hook order — is 6.18's for every profile.
 *
 * - 6.18, the default: the kernel of the recordings in fixtures/kernel (source 6.18.15).
 * - 5.4: linux-5.4.214 (cross-checked with 5.4.18). The first of these behaviours that 5.x has
 *   (a random port offset, at most 128 attempts, `found` counted at each one) came with 5.0; the
 *   conntrack -S fields with `ignore` and without `clash_resolve` last until 5.9. The seed "SNAT
 *   失败为什么会表现为超时" shows exactly this kernel's figures (found=7 insert_failed=7 drop=7).
 * - 4.15: linux-4.15.15 (the netfilter files are 4.15.0's but for a swap of an inverted port
 *   range), the kernel of the seed "Linux NAT Masquerade 研究(下)" (Ubuntu 18.04): the
 *   per-protocol port rover, used up to 4.20 (upstream 6ed5943f8735 and a504b703bb1d, 5.0,
 *   replaced it; 4.9.y and 4.14.y took both in 2022).
 */
import type { SysctlName } from '../host/sysctl.js';
import { IPPROTO } from '../netfilter/constants.js';
import type { StatName } from '../netfilter/conntrack/stats.js';

export const KERNEL_VERSIONS = ['4.15', '5.4', '6.18'] as const;
export type KernelVersion = (typeof KERNEL_VERSIONS)[number];

export function isKernelVersion(text: string): text is KernelVersion {
  return (KERNEL_VERSIONS as readonly string[]).includes(text);
}

/** How nf_nat_l4proto_unique_tuple walks a port (or ICMP id) range. */
export type PortSearch =
  /**
   * 4.15: from a per-protocol rover (a kernel-wide static u16), or from a random offset with the
   * random flags; no attempt limit; the range_size-th candidate is returned without a check; the
   * rover keeps the offset chosen (nf_nat_proto_common.c: `off = *rover;` …
   * `if (++i != range_size && nf_nat_used_tuple(tuple, ct)) continue;`).
   */
  | { readonly kind: 'rover' }
  /**
   * 5.0 on: from a random offset, at most 128 attempts, then rounds of half as many from new
   * random offsets (nf_nat_core.c: `for (i = 0; i < attempts; i++, off++)`). 6.x searches a
   * destination range from its start unless a random flag is set (5.4: `off = prandom_u32();`
   * for either manip), and in the last quarter of the attempts may evict a closing TCP
   * connection (nf_nat_used_tuple_harder), which counts no `found`.
   */
  | { readonly kind: 'bounded'; readonly dnatFromRangeStart: boolean; readonly evictClosing: boolean };

/** What nf_ct_resolve_clash does with the entry that lost an insert race, and what it counts. */
export type ClashResolution =
  /**
   * 4.15: the packet continues with the winner if the protocol allows clashes and the winner has
   * no NAT decided (`(ct->status & IPS_NAT_DONE_MASK) == 0`), else `drop`; __nf_conntrack_confirm
   * counts `insert_failed` for every clash, resolved or not.
   */
  | 'nat-free-winner'
  /** 5.4: as 4.15, or also a NATed winner whose tuples equal the loser's (`|| nf_ct_match(ct, loser_ct)`). */
  | 'nat-free-or-identical'
  /**
   * 6.x: merge a same (or reversed) flow, else insert the loser for replies only (NAT_CLASH);
   * either counts `clash_resolve`, and only a drop counts `insert_failed` and `drop`.
   */
  | 'merge-or-reply-only';

/** A sysctl natsim models, as one kernel has it. */
export type SysctlOnKernel =
  /** a default that differs from 6.18's */
  | { readonly value: number | string }
  /** not in this kernel: setting it is an error; the kernel's code acts as if it had this value */
  | { readonly absent: true; readonly behavesAs: number | string };

export interface KernelProfile {
  readonly version: KernelVersion;
  readonly nat: {
    readonly portSearch: PortSearch;
    /**
     * get_unique_tuple keeps the original tuple if it is free by nf_nat_used_tuple_new (6.x: a
     * clash with the same flow seen from its other side is waived) or plain nf_nat_used_tuple.
     */
    readonly keepOriginal: 'used-tuple' | 'used-tuple-new';
    /**
     * nf_conntrack_tuple_taken skips an entry whose original tuple equals ours — the same flow,
     * left to clash resolution (5.4, 6.18: "Only exception: If the *original tuples* are
     * identical"); 4.15 counts it as taken.
     */
    readonly takenSkipsSameFlow: boolean;
  };
  readonly conntrack: {
    readonly clash: ClashResolution;
    /** l4proto->allow_clash: UDP and UDPLITE; GRE too on 6.18. */
    readonly allowClash: readonly number[];
    /**
     * A packet nf_conntrack_in finds broken before the lookup (an ICMP error it cannot relate;
     * on 4.15 a bad TCP header too) counts `error` and `invalid` (up to 5.9), or `error` alone.
     */
    readonly errorCountsInvalid: boolean;
    /** 4.15 checks TCP headers before the lookup (tcp_error is l4proto->error); 5.x on in nf_conntrack_tcp_packet, counting `invalid` only. */
    readonly tcpErrorBeforeLookup: boolean;
    /** nf_conntrack_in counts `invalid` before it retries a TCP reopen (-NF_REPEAT; 4.15, 5.4.18) or not (5.4.214, 6.x). */
    readonly repeatCountsInvalid: boolean;
    /**
     * Once a reply was seen, nf_conntrack_udp_packet gives the stream timeout (and ASSURED) only
     * from 2 s after the first packet (5.x, 6.x), or at once (4.15).
     */
    readonly udpStreamAfter2s: boolean;
  };
  /**
   * The per-CPU counters `conntrack -S` prints, in ctnetlink_ct_stat_cpu_fill_info's order. A
   * kernel that has `ignore` counts it where nf_conntrack_in meets a packet that already has an
   * entry (loopback) or is untracked.
   */
  readonly stats: readonly StatName[];
  /** tcp_retransmit_timer counts LINUX_MIB_TCPTIMEOUTS at every RTO (as 4.20 does, and 5.4, 6.18) or only at the first (4.15). */
  readonly tcpTimeoutsEveryRto: boolean;
  /** Where the kernel's sysctls differ from 6.18's table (host/sysctl.ts). */
  readonly sysctls: Partial<Record<SysctlName, SysctlOnKernel>>;
}

const STATS_UP_TO_5_9: readonly StatName[] = ['found', 'invalid', 'ignore', 'insert', 'insert_failed', 'drop', 'early_drop', 'error', 'search_restart'];

/** Sysctls added after 5.4 (neither is in 5.4.214): the code before them acts as their value 0 (no linear SYN backoff, RST checks kept). */
const ADDED_AFTER_5_4: Partial<Record<SysctlName, SysctlOnKernel>> = {
  'net.ipv4.tcp_syn_linear_timeouts': { absent: true, behavesAs: 0 },
  'net.netfilter.nf_conntrack_tcp_ignore_invalid_rst': { absent: true, behavesAs: 0 },
};

export const KERNEL_PROFILES: Readonly<Record<KernelVersion, KernelProfile>> = {
  '6.18': {
    version: '6.18',
    nat: { portSearch: { kind: 'bounded', dnatFromRangeStart: true, evictClosing: true }, keepOriginal: 'used-tuple-new', takenSkipsSameFlow: true },
    conntrack: { clash: 'merge-or-reply-only', allowClash: [IPPROTO.UDP, IPPROTO.UDPLITE, IPPROTO.GRE], errorCountsInvalid: false, tcpErrorBeforeLookup: false, repeatCountsInvalid: false, udpStreamAfter2s: true },
    stats: ['found', 'invalid', 'insert', 'insert_failed', 'drop', 'early_drop', 'error', 'search_restart', 'clash_resolve', 'chaintoolong'],
    tcpTimeoutsEveryRto: true,
    sysctls: {},
  },
  '5.4': {
    version: '5.4',
    nat: { portSearch: { kind: 'bounded', dnatFromRangeStart: false, evictClosing: false }, keepOriginal: 'used-tuple', takenSkipsSameFlow: true },
    conntrack: { clash: 'nat-free-or-identical', allowClash: [IPPROTO.UDP, IPPROTO.UDPLITE], errorCountsInvalid: true, tcpErrorBeforeLookup: false, repeatCountsInvalid: false, udpStreamAfter2s: true },
    stats: STATS_UP_TO_5_9,
    tcpTimeoutsEveryRto: true,
    sysctls: ADDED_AFTER_5_4,
  },
  '4.15': {
    version: '4.15',
    nat: { portSearch: { kind: 'rover' }, keepOriginal: 'used-tuple', takenSkipsSameFlow: false },
    conntrack: { clash: 'nat-free-winner', allowClash: [IPPROTO.UDP, IPPROTO.UDPLITE], errorCountsInvalid: true, tcpErrorBeforeLookup: true, repeatCountsInvalid: true, udpStreamAfter2s: false },
    stats: STATS_UP_TO_5_9,
    tcpTimeoutsEveryRto: false,
    // udp_timeouts[UDP_CT_REPLIED] = 180*HZ (120 s from 5.x)
    sysctls: { ...ADDED_AFTER_5_4, 'net.netfilter.nf_conntrack_udp_timeout_stream': { value: 180 } },
  },
};

export const DEFAULT_KERNEL: KernelProfile = KERNEL_PROFILES['6.18'];
