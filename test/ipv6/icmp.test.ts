/**
 * The kernel's own ICMPv6 errors (icmp6_send) against ip6-masq-router: rt's time exceeded for
 * the hop-limit-1 datagram — from fd00:3::254 (the source selection toward the client out of
 * eth1), hop limit 64, quoting the datagram as it arrived — byte for byte, given the flow
 * label the kernel drew (a per-boot hash natsim takes from the capture). No error about an error.
 */
import { describe, expect, it } from 'vitest';
import { PacketDirection } from '../../src/capture/index.js';
import { buildIcmpv6Error, icmpv6ErrorSource } from '../../src/ipv6/icmp.js';
import { ICMPV6 } from '../../src/packet/ipv6.js';
import { formatIpv6 } from '../../src/packet/ipv6-addr.js';
import { ipv6Frames } from './capture6.js';
import { node6 } from './node6.js';

const DIR = 'fixtures/kernel/ip6-masq-router';

describe('icmp6_send on ip6-masq-router', () => {
  it('time exceeded for the hop-limit-1 datagram, as rt sent it', async () => {
    const frames = await ipv6Frames(`${DIR}/capture.pcap`);
    const offending = frames.find(({ dir, pkt }) => dir === PacketDirection.Host && pkt.hopLimit === 1 && pkt.proto === 17)!.pkt;
    const sent = frames.find(({ dir, pkt }) => dir === PacketDirection.Outgoing && pkt.isIcmpv6Error() && pkt.icmpType === ICMPV6.TIME_EXCEED)!.pkt;
    const { fib, devices } = node6(DIR);
    const saddr = icmpv6ErrorSource(fib, devices, offending)!;
    expect(formatIpv6(saddr)).toBe('fd00:3::254');
    const built = buildIcmpv6Error(ICMPV6.TIME_EXCEED, 0, 0, saddr, offending, sent.flowLabel)!;
    expect(Buffer.from(built.data).toString('hex')).toBe(Buffer.from(sent.data).toString('hex'));
  });

  it('no error about an ICMPv6 error', async () => {
    const frames = await ipv6Frames(`${DIR}/capture.pcap`);
    const error = frames.find(({ pkt }) => pkt.isIcmpv6Error())!.pkt;
    expect(buildIcmpv6Error(ICMPV6.TIME_EXCEED, 0, 0, error.daddr, error, 0)).toBeNull();
  });
});
