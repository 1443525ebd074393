/**
 * The packet part of `nft monitor trace` lines for the cases the log-trace recordings do not
 * cover. The IPv4 ones are what nft 1.0.6 printed on Linux 6.18 (scripts/record/nft-trace-probe.sh,
 * fixtures/kernel-experiments/nft-trace-probe): packets rebuilt from the fields it printed (their
 * checksums, which nft leaves out, are zero here) give its lines. The IPv6 ones follow from the
 * kernel's nf_trace_fill_pkt_info and nft's templates, which log-trace-nft6 checks for the rest.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NFPROTO_IPV4, NFPROTO_IPV6, type NfProto, type TableFamily } from '../../src/netfilter/rules/model.js';
import { tracedHeaders } from '../../src/netfilter/rules/nft-trace.js';
import { nftPacketText } from '../../src/trace/nft-payload.js';

const bytes = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex.replace(/\s+/g, ''), 'hex'));
const text = (d: Uint8Array, nfproto: NfProto, family: TableFamily): string => nftPacketText({ iif: null, oif: 'lo', link: null, nfproto, ...tracedHeaders(d, nfproto) }, family);

describe('nft monitor trace, IPv4 (nft-trace-probe)', () => {
  const probe = readFileSync('fixtures/kernel-experiments/nft-trace-probe/nft-monitor-trace.txt', 'utf8')
    .split('\n')
    .filter((l) => l.includes(' packet: '))
    .map((l) => l.replace(/^trace id [0-9a-f]{8} /, ''));
  const line = (family: TableFamily, d: Uint8Array): string => `${family} ${family === 'ip' ? 't4' : 'ti'} out packet: ${text(d, NFPROTO_IPV4, family)}`;
  const udp = bytes('45000020 7a73 4000 4011 0000 7f000001 7f000001 9772 0009 000c 0000 00000001');
  // the port unreachable quotes the datagram; nft shows 12 of its bytes (20 transport bytes in all)
  const unreach = (len: string, id: string, quoted: string): Uint8Array => bytes(`45c0${len} ${id} 0000 4001 0000 7f000001 7f000001 0303 0000 00000000 ${quoted}${'00'.repeat(parseInt(len, 16) - 40)}`);
  const withOpts = bytes('46000021 7aa2 4000 4011 0000 7f000001 7f000001 01010100 bfc1 0009 0009 0000 78');

  it('prints raw bytes in hex without leading zeros: @th,64,32 0x1 for 00 00 00 01', () => {
    expect([line('ip', udp), line('inet', udp)]).toEqual(probe.slice(0, 2));
  });

  it('gives every ICMP message an id and a sequence (expanded before its type is known); an inet table keeps ip protocol', () => {
    expect([line('ip', unreach('003c', '74c8', '450000207a7340004011c257')), line('inet', unreach('003c', '74c8', '450000207a7340004011c257'))]).toEqual(probe.slice(2, 4));
  });

  it('prints IP options as raw network header bytes after the fields: @nh,160,32', () => {
    expect([line('ip', withOpts), line('inet', withOpts)]).toEqual(probe.slice(4, 6));
    expect([line('ip', unreach('003d', '74e7', '460000217aa240004011bf26')), line('inet', unreach('003d', '74e7', '460000217aa240004011bf26'))]).toEqual(probe.slice(6, 8));
  });
});

describe('nft monitor trace, IPv6', () => {
  const head = '6000000000143a40 fd000003000000000000000000000001 fd000206000000000000000000000001';

  it('gives every ICMPv6 message the first template at offset 32, parameter-problem (a packet-too-big\'s MTU too)', () => {
    const tooBig = bytes(`${head} 0200 0000 00000500 6000000000000000 00000000`);
    expect(text(tooBig, NFPROTO_IPV6, 'ip6')).toBe(
      'oif "lo" ip6 saddr fd00:3::1 ip6 daddr fd00:206::1 ip6 dscp cs0 ip6 ecn not-ect ip6 hoplimit 64 ip6 flowlabel 0 ip6 length 20 icmpv6 type packet-too-big icmpv6 code no-route icmpv6 parameter-problem 1280 @th,64,96 0x600000000000000000000000 ',
    );
  });

  it('a non-first fragment: no network header (nft_thoff is 0), its first 20 bytes as the transport header', () => {
    // ipv6_find_hdr returns the fragment's protocol without writing the offset nft_set_pktinfo_ipv6 gave it (0)
    const fragment = bytes('6000000000102c40 fd000003000000000000000000000001 fd000206000000000000000000000001 1100 0009 00000001 a02a0009000fb176');
    const sent = tracedHeaders(fragment, NFPROTO_IPV6);
    expect(sent.network).toBeNull();
    expect(sent.transport).toEqual(fragment.subarray(0, 20));
    expect(text(fragment, NFPROTO_IPV6, 'ip6')).toBe('oif "lo" @th,0,160 0x6000000000102c40fd0000030000000000000000 ');
  });

  it('says AH is not decoded rather than guess nft\'s chained decoding; names dscp lephb and va', () => {
    const ah = bytes('6040000000143340 fd000003000000000000000000000001 fd000206000000000000000000000001 11040000 00000100 00000001 0000000000000000');
    expect(text(ah, NFPROTO_IPV6, 'ip6')).toContain('ip6 dscp lephb ip6 ecn not-ect ip6 hoplimit 64 ip6 flowlabel 0 ip6 nexthdr ah ip6 length 20 [natsim: ah and the header after it not decoded] @th,0,160 0x');
    expect(text(bytes(`6b00000000083b40 ${head.slice(17)} 0000000000000000`), NFPROTO_IPV6, 'ip6')).toContain('ip6 dscp va ip6 ecn not-ect ');
  });
});
