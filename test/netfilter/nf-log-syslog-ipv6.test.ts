/**
 * nf_log_syslog's IPv6 line (dump_ipv6_packet) on the IPv6 packets of the kernel recording
 * ip6-masq-router: %pI6 addresses (every group in full), LEN as payload length + 40, TC,
 * HOPLIMIT and FLOWLBL from the first word, PROTO=ICMPv6 with TYPE/CODE and the echo's
 * ID/SEQ, TCP and UDP as for IPv4, an ICMPv6 error's quote in brackets once, and the
 * fragment header (FRAG: offset, INCOMPLETE for M, ID:%08x) on a hand-made first fragment.
 */
import { describe, expect, it } from 'vitest';
import { PacketDirection } from '../../src/capture/index.js';
import { IPPROTO } from '../../src/netfilter/constants.js';
import { NfLogFlag, type NfLogEntry } from '../../src/netfilter/log/nf-log.js';
import { nfLogLine } from '../../src/netfilter/log/nf-log-syslog.js';
import { ICMPV6, type Ipv6Packet } from '../../src/packet/ipv6.js';
import { ipv6Frames } from '../ipv6/capture6.js';

const DIR = 'fixtures/kernel/ip6-masq-router';

function entry(packet: Uint8Array, over: Partial<NfLogEntry> = {}): NfLogEntry {
  return { origin: { kind: 'log', prefix: 'v6: ' }, info: { level: 4, flags: 0 }, in: 'eth1', out: 'eth0', physin: null, physout: null, link: null, packet, mark: 0, owner: null, ...over };
}

async function lanPackets(): Promise<Ipv6Packet[]> {
  return (await ipv6Frames(`${DIR}/capture.pcap`)).filter((f) => f.dir === PacketDirection.Host && f.ifindex === 2).map((f) => f.pkt);
}

describe('dump_ipv6_packet on the recorded packets', () => {
  it('the echo request: full-form addresses, LEN/TC/HOPLIMIT/FLOWLBL, ICMPv6 ID and SEQ', async () => {
    const echo = (await lanPackets()).find((p) => p.proto === IPPROTO.ICMPV6 && p.icmpType === ICMPV6.ECHO_REQUEST)!;
    const seq = (echo.data[echo.l4off + 6]! << 8) | echo.data[echo.l4off + 7]!;
    expect(nfLogLine(entry(echo.data))).toBe(
      `v6: IN=eth1 OUT=eth0 SRC=fd00:0003:0000:0000:0000:0000:0000:0001 DST=fd00:0206:0000:0000:0000:0000:0000:0001 LEN=${echo.length} TC=${echo.trafficClass} HOPLIMIT=${echo.hopLimit} FLOWLBL=${echo.flowLabel} PROTO=ICMPv6 TYPE=128 CODE=0 ID=${echo.sport} SEQ=${seq} `,
    );
    expect(nfLogLine(entry(echo.data, { mark: 0x2a }))).toMatch(/ SEQ=\d+ MARK=0x2a $/);
  });

  it('TCP and UDP as nf_log_dump_tcp_header / _udp_header print them after the IPv6 header', async () => {
    const packets = await lanPackets();
    const syn = packets.find((p) => p.proto === IPPROTO.TCP && (p.tcpFlags & 0x12) === 0x02)!;
    expect(nfLogLine(entry(syn.data))).toMatch(new RegExp(`FLOWLBL=${syn.flowLabel} PROTO=TCP SPT=${syn.sport} DPT=80 WINDOW=${syn.tcpWindow} RES=0x00 SYN URGP=0 $`));
    const udp = packets.find((p) => p.proto === IPPROTO.UDP)!;
    expect(nfLogLine(entry(udp.data))).toMatch(new RegExp(`PROTO=UDP SPT=${udp.sport} DPT=${udp.dport} LEN=${udp.length - 40} $`));
  });

  it('an ICMPv6 error: its quote in brackets, dumped once, without the outer mark', async () => {
    const all = (await ipv6Frames(`${DIR}/capture.pcap`)).map((f) => f.pkt);
    const err = all.find((p) => p.proto === IPPROTO.ICMPV6 && p.icmpType === ICMPV6.DEST_UNREACH)!;
    expect(err).toBeDefined();
    const line = nfLogLine(entry(err.data, { mark: 1 }));
    expect(line).toMatch(/PROTO=ICMPv6 TYPE=1 CODE=4 \[SRC=\S+ DST=\S+ LEN=\d+ TC=\d+ HOPLIMIT=\d+ FLOWLBL=\d+ PROTO=UDP SPT=\d+ DPT=9 LEN=\d+ \] MARK=0x1 $/);
    expect(line.match(/MARK=/g)).toHaveLength(1);
  });

  it('a fragment header: FRAG:offset, INCOMPLETE with M, ID:%08x; a later fragment has no L4 fields; OPT ( … ) with NF_LOG_IPOPT', async () => {
    const echo = (await lanPackets()).find((p) => p.proto === IPPROTO.ICMPV6 && p.icmpType === ICMPV6.ECHO_REQUEST)!;
    const frag = (offset: number, more: boolean): Uint8Array => {
      const d = echo.data;
      const out = new Uint8Array(d.length + 8);
      out.set(d.subarray(0, 40));
      out[6] = 44;
      out[4] = (d.length + 8 - 40) >> 8;
      out[5] = (d.length + 8 - 40) & 0xff;
      out.set([58, 0, (offset >> 8) & 0xff, (offset & 0xf8) | (more ? 1 : 0), 0xde, 0xad, 0xbe, 0xef], 40);
      out.set(d.subarray(40), 48);
      return out;
    };
    expect(nfLogLine(entry(frag(0, true)))).toMatch(/FLOWLBL=\d+ FRAG:0 INCOMPLETE ID:deadbeef PROTO=ICMPv6 TYPE=128 CODE=0 ID=\d+ SEQ=\d+ $/);
    expect(nfLogLine(entry(frag(1448, false)))).toMatch(/FLOWLBL=\d+ FRAG:1448 ID:deadbeef PROTO=ICMPv6 $/);
    expect(nfLogLine(entry(frag(0, true), { info: { level: 4, flags: NfLogFlag.IpOpt } }))).toMatch(/OPT \( FRAG:0 INCOMPLETE ID:deadbeef \) PROTO=ICMPv6 /);
    expect(nfLogLine(entry(echo.data.subarray(0, 30)))).toBe('v6: IN=eth1 OUT=eth0 TRUNCATED');
  });
});
