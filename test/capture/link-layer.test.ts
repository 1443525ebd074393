import { describe, expect, it } from 'vitest';
import { linkDecoderFor, newLinkFrame, type LinkFrame } from '../../src/capture/link-layer.js';
import { LinkType, PacketDirection } from '../../src/capture/record.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

function decode(linkType: LinkType, frame: Uint8Array): LinkFrame | string {
  const out = newLinkFrame();
  return linkDecoderFor(linkType)!(frame, 0, frame.length, out) ?? out;
}

const ipv4 = '4500001c 00000000 4001 0000 0a000301 c0a8ce01 08000000 00000000';
const ipv6 = '60000000 0000 3a40' + '00'.repeat(32);
const macs = '066e2f432955 9eb05683e0ef';

describe('Ethernet', () => {
  it('reads the EtherType after the two addresses', () => {
    expect(decode(LinkType.Ethernet, hex(macs + '0800' + ipv4))).toEqual({
      ifindex: 0,
      direction: PacketDirection.Unknown,
      protocol: 0x0800,
      payloadOffset: 14,
      hwSourceAt: 6,
      hwDestAt: 0,
    });
  });

  it('steps over an 802.1Q tag and an 802.1ad + 802.1Q stack', () => {
    expect(decode(LinkType.Ethernet, hex(macs + '8100 0064 86dd' + ipv6))).toMatchObject({ protocol: 0x86dd, payloadOffset: 18 });
    expect(decode(LinkType.Ethernet, hex(macs + '88a8 00c8 8100 0064 0806' + '00'.repeat(28)))).toMatchObject({
      protocol: 0x0806,
      payloadOffset: 22,
    });
  });

  it('turns an 802.3 length into ETH_P_802_2, or ETH_P_802_3 for raw IPX, as eth_type_trans does', () => {
    expect(decode(LinkType.Ethernet, hex(macs + '0026 4242 03' + '00'.repeat(35)))).toMatchObject({ protocol: 0x0004 });
    expect(decode(LinkType.Ethernet, hex(macs + '0026 ffff' + '00'.repeat(36)))).toMatchObject({ protocol: 0x0001 });
  });

  it('says why a short frame cannot be read', () => {
    expect(decode(LinkType.Ethernet, hex(macs + '08'))).toBe('frame shorter than an Ethernet header');
    expect(decode(LinkType.Ethernet, hex(macs + '8100 0064 08'))).toBe('frame ends inside a VLAN tag');
  });
});

describe('Linux SLL', () => {
  it('reads packet type, protocol and the 16-byte header', () => {
    // packet type 4 (outgoing), ARPHRD_ETHER, address length 6, address + 2 pad bytes, IPv4
    const frame = hex('0004 0001 0006 066e2f4329550000 0800' + ipv4);
    expect(decode(LinkType.LinuxSll, frame)).toEqual({
      ifindex: 0,
      direction: PacketDirection.Outgoing,
      protocol: 0x0800,
      payloadOffset: 16,
      hwSourceAt: 6,
      hwDestAt: -1,
    });
  });

  it('has no direction for packet types beyond PACKET_OUTGOING', () => {
    expect(decode(LinkType.LinuxSll, hex('0005 0304 0000 0000000000000000 0800' + ipv4))).toMatchObject({
      direction: PacketDirection.Unknown,
    });
  });

  it('refuses a frame shorter than its header', () => {
    expect(decode(LinkType.LinuxSll, hex('0000 0001 0006 066e2f432955 00'))).toBe('frame shorter than a Linux SLL header');
  });
});

describe('Linux SLL2', () => {
  it('reads protocol, ifindex and packet type from the 20-byte header', () => {
    // the third record of fixtures/kernel/icmp-masq/capture.pcap: ifb0 In ifindex 2, IPv4
    const frame = hex('0800 0000 00000002 0001 00 06 9eb05683e0ef0000' + ipv4);
    expect(decode(LinkType.LinuxSll2, frame)).toEqual({
      ifindex: 2,
      direction: PacketDirection.Host,
      protocol: 0x0800,
      payloadOffset: 20,
      hwSourceAt: 12,
      hwDestAt: -1,
    });
  });

  it('reads the whole unsigned 32-bit ifindex; an address of another length is not an Ethernet one', () => {
    expect(decode(LinkType.LinuxSll2, hex('0806 0000 fffffffe 0001 01 00 0000000000000000'))).toMatchObject({
      ifindex: 0xfffffffe,
      direction: PacketDirection.Broadcast,
      protocol: 0x0806,
      hwSourceAt: -1,
    });
  });

  it('refuses a frame shorter than its header', () => {
    expect(decode(LinkType.LinuxSll2, hex('0800 0000 00000002 0001 00 06 9eb0'))).toBe('frame shorter than a Linux SLL2 header');
  });
});

describe('raw IP', () => {
  it('LINKTYPE_RAW tells IPv4 from IPv6 by the version nibble', () => {
    expect(decode(LinkType.RawLegacy, hex(ipv4))).toEqual({
      ifindex: 0,
      direction: PacketDirection.Unknown,
      protocol: 0x0800,
      payloadOffset: 0,
      hwSourceAt: -1,
      hwDestAt: -1,
    });
    expect(decode(LinkType.RawLegacy, hex(ipv6))).toMatchObject({ protocol: 0x86dd, payloadOffset: 0 });
    expect(decode(LinkType.RawLegacy, hex('50'))).toBe('raw IP frame with IP version 5');
    expect(decode(LinkType.RawLegacy, hex(''))).toBe('empty frame');
  });

  it('LINKTYPE_IPV4 is IPv4 whatever the bytes', () => {
    expect(decode(LinkType.RawIpv4, hex(ipv4))).toMatchObject({ protocol: 0x0800, payloadOffset: 0 });
    expect(decode(LinkType.RawIpv4, hex(''))).toBe('empty frame');
  });
});

it('has no decoder for link types natsim does not read', () => {
  expect(linkDecoderFor(105)).toBeUndefined();
  expect(linkDecoderFor(0)).toBeUndefined();
});
