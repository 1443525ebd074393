/**
 * nf_log_syslog's IPv4 line (nf-log-syslog.ts) on hand-made packets, one branch of
 * dump_ipv4_packet, nf_log_dump_tcp_header, nf_log_dump_udp_header and dump_mac_header each;
 * the recordings in test/kernel/log-trace.test.ts check the common lines against the kernel.
 */
import { describe, expect, it } from 'vitest';
import { NfLogFlag, type NfLogEntry } from '../../src/netfilter/log/nf-log.js';
import { nfLogLine } from '../../src/netfilter/log/nf-log-syslog.js';

const bytes = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex.replace(/\s+/g, ''), 'hex'));
const mac = (hex: string): Uint8Array => bytes(hex.replace(/:/g, ''));

/** An IPv4 header: total length, TOS, flags+fragment offset, protocol, options (hex). */
function ipHeader(f: { len: number; tos?: number; frag?: number; proto: number; opts?: string }): string {
  const opts = f.opts ?? '';
  const ihl = 5 + opts.length / 8;
  const h = (v: number, n: number): string => v.toString(16).padStart(n, '0');
  return `4${ihl.toString(16)}${h(f.tos ?? 0, 2)}${h(f.len, 4)} 1234 ${h(f.frag ?? 0, 4)} 40${h(f.proto, 2)} 0000 0a000301 c0a8ce01 ${opts}`;
}

function entry(packet: string, over: Partial<NfLogEntry> = {}): NfLogEntry {
  return {
    origin: { kind: 'log', prefix: 'p: ' },
    info: { level: 4, flags: 0 },
    in: null,
    out: 'eth0',
    physin: null,
    physout: null,
    link: null,
    packet: bytes(packet),
    mark: 0,
    owner: null,
    ...over,
  };
}

const HEAD = 'p: IN= OUT=eth0 SRC=10.0.3.1 DST=192.168.206.1';

describe('nf_log_syslog: the IP header', () => {
  it('prints TOS and precedence apart, CE DF MF and the fragment offset, and IP options only when asked', () => {
    const p = ipHeader({ len: 28, tos: 0xb8, frag: 0x8000 | 0x4000 | 0x2000, proto: 17, opts: '01010100' }) + ' 9c4a0009 0008 0000';
    expect(nfLogLine(entry(p))).toBe(`${HEAD} LEN=28 TOS=0x18 PREC=0xA0 TTL=64 ID=4660 CE DF MF PROTO=UDP SPT=40010 DPT=9 LEN=8 `);
    expect(nfLogLine(entry(p, { info: { level: 4, flags: NfLogFlag.IpOpt } }))).toContain(' MF OPT (01010100) PROTO=UDP ');
  });

  it('shows a later fragment by its offset and nothing of its transport header', () => {
    expect(nfLogLine(entry(ipHeader({ len: 40, frag: 0x00b9, proto: 6 }) + '00'.repeat(20), { mark: 0x2a }))).toBe(`${HEAD} LEN=40 TOS=0x00 PREC=0x00 TTL=64 ID=4660 FRAG:185 PROTO=TCP MARK=0x2a `);
  });

  it('says TRUNCATED for a header shorter than 20 bytes, or options cut short', () => {
    expect(nfLogLine(entry('4500001c1234'))).toBe('p: IN= OUT=eth0 TRUNCATED');
    expect(nfLogLine(entry(ipHeader({ len: 24, proto: 17 }).replace(/^45/, '46'), { info: { level: 4, flags: NfLogFlag.IpOpt } }))).toMatch(/ID=4660 TRUNCATED$/);
  });

  it('prints other protocols by number, and the SPI of AH and ESP', () => {
    expect(nfLogLine(entry(ipHeader({ len: 24, proto: 47 }) + '00000800'))).toMatch(/ PROTO=47 $/);
    expect(nfLogLine(entry(ipHeader({ len: 28, proto: 50 }) + '0000abcd 00000001'))).toMatch(/ PROTO=ESP SPI=0xabcd $/);
    expect(nfLogLine(entry(ipHeader({ len: 32, proto: 51 }) + '0604 0000 00001000 00000001'))).toMatch(/ PROTO=AH SPI=0x1000 $/);
    expect(nfLogLine(entry(ipHeader({ len: 24, proto: 51 }) + '06040000'))).toMatch(/ PROTO=AH INCOMPLETE \[4 bytes\] $/);
  });
});

describe('nf_log_syslog: TCP and UDP', () => {
  const syn = ipHeader({ len: 48, proto: 6 }) + ' a028 1f90 00000064 000000c8 7 0 c2 fbf0 0000 0007 020405b4 01010402';

  it('prints ports, window, reserved bits, every flag (AE first) and the urgent pointer', () => {
    // doff 7, reserved bits 0b101, AE; CWR ECE SYN
    const line = nfLogLine(entry(syn.replace(' 7 0 c2 ', ' 7 b c2 ')));
    expect(line).toBe(`${HEAD} LEN=48 TOS=0x00 PREC=0x00 TTL=64 ID=4660 PROTO=TCP SPT=41000 DPT=8080 WINDOW=64496 RES=0x28 AE CWR ECE SYN URGP=7 `);
  });

  it('adds SEQ/ACK and the options with --log-tcp-sequence and --log-tcp-options', () => {
    const line = nfLogLine(entry(syn, { info: { level: 4, flags: NfLogFlag.TcpSeq | NfLogFlag.TcpOpt }, mark: 1 }));
    expect(line).toMatch(/ SPT=41000 DPT=8080 SEQ=100 ACK=200 WINDOW=64496 RES=0x00 CWR ECE SYN URGP=7 OPT \(020405B401010402\) MARK=0x1 $/);
  });

  it('stops at a cut header or cut options, with nothing after (no MARK)', () => {
    expect(nfLogLine(entry(ipHeader({ len: 30, proto: 6 }) + 'a0281f90 00000064 0000', { mark: 1 }))).toMatch(/ PROTO=TCP INCOMPLETE \[10 bytes\] $/);
    const cut = syn.slice(0, syn.length - 8);
    expect(nfLogLine(entry(cut, { info: { level: 4, flags: NfLogFlag.TcpOpt }, mark: 1 }))).toMatch(/ URGP=7 OPT \(TRUNCATED\)$/);
  });

  it('prints UDP and UDP-Lite with their length field', () => {
    expect(nfLogLine(entry(ipHeader({ len: 28, proto: 136 }) + '9c4a0035 0008 0000'))).toMatch(/ PROTO=UDPLITE SPT=40010 DPT=53 LEN=8 $/);
    expect(nfLogLine(entry(ipHeader({ len: 24, proto: 17 }) + '9c4a0035'))).toMatch(/ PROTO=UDP INCOMPLETE \[4 bytes\] $/);
  });
});

describe('nf_log_syslog: ICMP', () => {
  const quoted = ipHeader({ len: 28, proto: 17, frag: 0x4000 }) + ' 9c4a0009 0008 0000';

  it('prints an echo by id and sequence', () => {
    expect(nfLogLine(entry(ipHeader({ len: 28, proto: 1 }) + '0800 0000 4cb4 0001'))).toMatch(/ PROTO=ICMP TYPE=8 CODE=0 ID=19636 SEQ=1 $/);
  });

  it("prints an application socket's owner with --log-uid, before the mark, for the outer packet only", () => {
    const error = ipHeader({ len: 56, proto: 1 }) + '0303 0000 00000000' + quoted;
    const owned = { owner: { uid: 1000, gid: 100 }, mark: 5 };
    expect(nfLogLine(entry(error, { ...owned, info: { level: 4, flags: NfLogFlag.Uid } }))).toMatch(/ LEN=8 \] UID=1000 GID=100 MARK=0x5 $/);
    expect(nfLogLine(entry(error, owned))).toMatch(/ LEN=8 \] MARK=0x5 $/);
  });

  it('quotes the packet of an error once, in brackets, and the MTU of fragmentation needed', () => {
    const line = nfLogLine(entry(ipHeader({ len: 56, proto: 1 }) + '0304 0000 0000 05dc' + quoted, { mark: 3 }));
    expect(line).toBe(`${HEAD} LEN=56 TOS=0x00 PREC=0x00 TTL=64 ID=4660 PROTO=ICMP TYPE=3 CODE=4 [SRC=10.0.3.1 DST=192.168.206.1 LEN=28 TOS=0x00 PREC=0x00 TTL=64 ID=4660 DF PROTO=UDP SPT=40010 DPT=9 LEN=8 ] MTU=1500 MARK=0x3 `);
  });

  it('prints a redirect\'s gateway and a parameter problem\'s pointer', () => {
    expect(nfLogLine(entry(ipHeader({ len: 56, proto: 1 }) + '0501 0000 0a0003fe' + quoted))).toMatch(/ TYPE=5 CODE=1 GATEWAY=10\.0\.3\.254 \[SRC=10\.0\.3\.1 .* LEN=8 \] $/);
    expect(nfLogLine(entry(ipHeader({ len: 56, proto: 1 }) + '0c00 0000 14000000' + quoted))).toMatch(/ TYPE=12 CODE=0 PARAMETER=20 $/);
  });

  it('says INCOMPLETE for a message shorter than its type needs, or a cut quoted header TRUNCATED', () => {
    expect(nfLogLine(entry(ipHeader({ len: 40, proto: 1 }) + '0303 0000 00000000 45000020'))).toMatch(/ TYPE=3 CODE=3 INCOMPLETE \[12 bytes\] $/);
    expect(nfLogLine(entry(ipHeader({ len: 36, proto: 1 }) + '0d00 0000 00000000 00000000'))).toMatch(/ TYPE=13 CODE=0 INCOMPLETE \[12 bytes\] $/);
    expect(nfLogLine(entry(ipHeader({ len: 22, proto: 1 }) + '0800'))).toMatch(/ PROTO=ICMP INCOMPLETE \[2 bytes\] $/);
    const cutOptions = ipHeader({ len: 48, proto: 1 }) + '0b00 0000 00000000' + ipHeader({ len: 28, proto: 17 }).replace(/^45/, '46');
    expect(nfLogLine(entry(cutOptions, { info: { level: 4, flags: NfLogFlag.IpOpt } }))).toMatch(/ TYPE=11 CODE=0 \[SRC=10\.0\.3\.1 DST=192\.168\.206\.1 LEN=28 TOS=0x00 PREC=0x00 TTL=64 ID=4660 TRUNCATED\] $/);
  });
});

describe('nf_log_syslog: prefix, devices and the link header', () => {
  const p = ipHeader({ len: 24, proto: 47 }) + '00000800';
  const eth = { dest: mac('b2:2a:f6:ca:32:c0'), source: mac('f2:b5:54:fc:89:c5'), proto: 0x0800 };

  it('prints MAC= as the header bytes, or MACSRC/MACDST/MACPROTO with --log-macdecode on Ethernet', () => {
    expect(nfLogLine(entry(p, { in: 'eth1', link: { type: 'ether', header: eth } }))).toMatch(/^p: IN=eth1 OUT=eth0 MAC=b2:2a:f6:ca:32:c0:f2:b5:54:fc:89:c5:08:00 SRC=/);
    const decoded = entry(p, { in: 'eth1', link: { type: 'ether', header: eth }, info: { level: 4, flags: NfLogFlag.MacDecode } });
    expect(nfLogLine(decoded)).toMatch(/^p: IN=eth1 OUT=eth0 MACSRC=f2:b5:54:fc:89:c5 MACDST=b2:2a:f6:ca:32:c0 MACPROTO=0800 SRC=/);
  });

  it('decodes nothing on loopback, prints "MAC= " without a header and ?? for what natsim was not told', () => {
    const lo = { dest: new Uint8Array(6), source: new Uint8Array(6), proto: 0x0800 };
    expect(nfLogLine(entry(p, { in: 'lo', link: { type: 'loopback', header: lo }, info: { level: 4, flags: NfLogFlag.MacDecode } }))).toMatch(/ MAC=00:00:00:00:00:00:00:00:00:00:00:00:08:00 SRC=/);
    expect(nfLogLine(entry(p, { in: 'tun0', link: { type: 'ether', header: null } }))).toMatch(/ OUT=eth0 MAC= SRC=/);
    expect(nfLogLine(entry(p, { in: 'eth1', link: { type: 'ether', header: { ...eth, dest: null } } }))).toMatch(/ MAC=\?\?:\?\?:\?\?:\?\?:\?\?:\?\?:f2:b5:54:fc:89:c5:08:00 /);
  });

  it("prints ip_tables' trace position as the prefix, and cuts a prefix at 127 characters", () => {
    expect(nfLogLine(entry(p, { origin: { kind: 'trace', table: 'raw', chain: 'PREROUTING', comment: 'policy', rulenum: 3 } }))).toMatch(/^TRACE: raw:PREROUTING:policy:3 IN= OUT=eth0 SRC=/);
    expect(nfLogLine(entry(p, { origin: { kind: 'log', prefix: 'x'.repeat(200) } }))).toMatch(/^x{127}IN= /);
  });

  it("prints a bridged frame's ports as PHYSIN=/PHYSOUT= only where they differ from IN/OUT (nf_log_dump_packet_common)", () => {
    expect(nfLogLine(entry(p, { in: 'docker0', out: 'docker0', physin: 'vethc1', physout: 'vethc2' }))).toMatch(/^p: IN=docker0 OUT=docker0 PHYSIN=vethc1 PHYSOUT=vethc2 SRC=/);
    expect(nfLogLine(entry(p, { in: 'docker0', out: null, physin: 'vethc1', physout: null }))).toMatch(/^p: IN=docker0 OUT= PHYSIN=vethc1 SRC=/);
    expect(nfLogLine(entry(p, { in: 'vethc1', out: 'eth0', physin: 'vethc1', physout: null }))).toMatch(/^p: IN=vethc1 OUT=eth0 SRC=/);
  });
});
