/**
 * The TCP timestamp option (RFC 7323) as Linux sends it, governed for both families by
 * net.ipv4.tcp_timestamps (0 off; 1 on, each address pair's TSval offset by a secret hash;
 * any other value on without the offset: secure_tcp_ts_off and secure_tcpv6_ts_off in
 * net/core/secure_seq.c return 0 unless the sysctl is exactly 1).
 *
 * TSval is tcp_clock_ms (the skb's send time in ms, tcp_skb_timestamp_ts) plus the offset
 * (tp->tsoffset, tcp_rsk(req)->ts_off); TSecr echoes ts_recent, the peer's last TSval stored by
 * tcp_replace_ts_recent. natsim's host clock is the virtual clock, boot at time 0, so with
 * tcp_timestamps=2 TSval is the run's time in ms. The offset is siphash(saddr, daddr) under a
 * per-boot secret (ts_secret) natsim cannot know: each host's secret is drawn from the seeded
 * randomness (a stream of the run's seed named after the host), and the hash is jhash2 — the
 * same offset for every connection between the same two addresses, as the kernel's.
 */
import type { Sysctl } from '../host/sysctl.js';
import type { TsOption } from '../packet/build.js';
import { readU32, type L3Packet } from '../packet/l3-packet.js';
import { inetAddrWords } from '../packet/inet-addr.js';
import { jhash2 } from '../netfilter/nat/jhash.js';

/** TCPOLEN_TSTAMP_ALIGNED: the option with its two NOPs, what it takes from the MSS (tcp_current_mss). */
export const TCPOLEN_TSTAMP_ALIGNED = 12;

const TCPOPT_EOL = 0;
const TCPOPT_NOP = 1;
const TCPOPT_TIMESTAMP = 8;
const TCPOLEN_TIMESTAMP = 10;

/** tcp_syn_options, tcp_synack_options: does this host send timestamps at all? */
export function timestampsOn(sysctl: Sysctl): boolean {
  return sysctl.num('net.ipv4.tcp_timestamps') !== 0;
}

/** secure_tcp_ts_off (secure_tcpv6_ts_off): the TSval offset for local → remote; 0 unless the sysctl is 1. */
export function tsOffset(sysctl: Sysctl, secret: number, local: number, remote: number): number {
  if (sysctl.num('net.ipv4.tcp_timestamps') !== 1) return 0;
  return jhash2([...Array.from(inetAddrWords(local)), ...Array.from(inetAddrWords(remote))], secret);
}

/** tcp_skb_timestamp_ts (ms resolution, no usec_ts route feature) plus the offset, in 32 bits. */
export function tsVal(now: number, offset: number): number {
  return (Math.floor(now / 1e6) + offset) >>> 0;
}

/**
 * The segment's timestamp option (rcv_tsval, rcv_tsecr), as tcp_parse_options reads it: kind 8 of length 10 among the
 * options (NOPs skipped, EOL ends them); null when there is none.
 */
export function readTimestamp(p: L3Packet): TsOption | null {
  const d = p.data;
  const end = p.tcpOptionsOffset + p.tcpOptionsLength;
  for (let at = p.tcpOptionsOffset; at < end; ) {
    const kind = d[at]!;
    if (kind === TCPOPT_EOL) return null;
    if (kind === TCPOPT_NOP) {
      at++;
      continue;
    }
    const size = d[at + 1] ?? 0;
    if (size < 2 || at + size > end) return null;
    if (kind === TCPOPT_TIMESTAMP && size === TCPOLEN_TIMESTAMP) return { val: readU32(d, at + 2), ecr: readU32(d, at + 6) };
    at += size;
  }
  return null;
}

/** tcp_paws_check's order: `val` is not older than `recent` (in sequence-space arithmetic). */
export function notOlder(val: number, recent: number): boolean {
  return ((val - recent) | 0) >= 0;
}
