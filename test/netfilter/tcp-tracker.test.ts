/**
 * The TCP connection tracker (src/netfilter/conntrack/tcp.ts) against Linux 6.18.15
 * net/netfilter/nf_conntrack_proto_tcp.c: every cell of tcp_conntracks, the timeouts per state
 * from the sysctls, SYN retransmission, RST inside and outside the window, window checks with
 * and without nf_conntrack_tcp_be_liberal, mid-stream pickup, reopening from TIME_WAIT, ASSURED.
 */
import { describe, expect, it } from 'vitest';
import { Conn, Status } from '../../src/netfilter/conntrack/conn.js';
import { Dir, invertTuple, Tuple } from '../../src/netfilter/conntrack/tuple.js';
import { TcpState, TCP_STATE_NAME } from '../../src/netfilter/conntrack/tcp-state.js';
import { CtTcpFlag, TcpConn, TcpIndex, tcpPacket } from '../../src/netfilter/conntrack/tcp.js';
import { conntrackIn } from '../../src/netfilter/conntrack/core.js';
import { confirm } from '../../src/netfilter/conntrack/confirm.js';
import { NetfilterNet } from '../../src/netfilter/net.js';
import { Hook } from '../../src/netfilter/constants.js';
import type { HookState } from '../../src/netfilter/hooks.js';
import { Skb } from '../../src/netfilter/skb.js';
import { Sysctl, type SysctlName } from '../../src/host/sysctl.js';
import { Prng } from '../../src/sim/prng.js';
import { Ipv4Packet, writeU16, writeU32 } from '../../src/packet/ipv4.js';
import { checksum, pseudoHeaderSum } from '../../src/packet/checksum.js';
import { parseIpv4 } from '../../src/packet/ipv4-addr.js';
import { KERNEL_PROFILES, type KernelVersion } from '../../src/kernel/profile.js';

const S = 1e9;
const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const PSH = 0x08;
const ACK = 0x10;

/**
 * Verbatim from nf_conntrack_proto_tcp.c (6.18.15): the state abbreviations and the rows of
 * tcp_conntracks, ORIGINAL then REPLY, each row indexed by the old state sNO … sS2.
 */
const KERNEL_TEXT = `
#define sNO TCP_CONNTRACK_NONE
#define sSS TCP_CONNTRACK_SYN_SENT
#define sSR TCP_CONNTRACK_SYN_RECV
#define sES TCP_CONNTRACK_ESTABLISHED
#define sFW TCP_CONNTRACK_FIN_WAIT
#define sCW TCP_CONNTRACK_CLOSE_WAIT
#define sLA TCP_CONNTRACK_LAST_ACK
#define sTW TCP_CONNTRACK_TIME_WAIT
#define sCL TCP_CONNTRACK_CLOSE
#define sS2 TCP_CONNTRACK_SYN_SENT2
#define sIV TCP_CONNTRACK_MAX
#define sIG TCP_CONNTRACK_IGNORE
/* ORIGINAL */
/*syn*/     { sSS, sSS, sIG, sIG, sIG, sIG, sIG, sSS, sSS, sS2 },
/*synack*/ { sIV, sIV, sSR, sIV, sIV, sIV, sIV, sIV, sIV, sSR },
/*fin*/    { sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV },
/*ack*/     { sES, sIV, sES, sES, sCW, sCW, sTW, sTW, sCL, sIV },
/*rst*/    { sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL },
/*none*/   { sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV }
/* REPLY */
/*syn*/     { sIV, sS2, sIV, sIV, sIV, sIV, sIV, sSS, sIV, sS2 },
/*synack*/ { sIV, sSR, sIG, sIG, sIG, sIG, sIG, sIG, sIG, sSR },
/*fin*/    { sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV },
/*ack*/     { sIV, sIG, sSR, sES, sCW, sCW, sTW, sTW, sCL, sIG },
/*rst*/    { sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL },
/*none*/   { sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV }
`;

type Expected = TcpState | 'invalid' | 'ignored';

/** tcp_conntracks[dir][index][old] parsed from KERNEL_TEXT. */
function kernelTable(): Expected[][][] {
  const abbrev = new Map<string, Expected>();
  for (const m of KERNEL_TEXT.matchAll(/^#define (s\w\w) TCP_CONNTRACK_(\w+)$/gm)) {
    const name = m[2]!;
    abbrev.set(m[1]!, name === 'MAX' ? 'invalid' : name === 'IGNORE' ? 'ignored' : (TCP_STATE_NAME.indexOf(name) as TcpState));
  }
  const rows = [...KERNEL_TEXT.matchAll(/^\/\*(\w+)\*\/\s*\{([^}]*)\}/gm)].map((m) => m[2]!.split(',').map((s) => abbrev.get(s.trim())!));
  expect(rows).toHaveLength(12);
  return [rows.slice(0, 6), rows.slice(6, 12)];
}

const CLIENT = parseIpv4('10.0.0.1')!;
const SERVER = parseIpv4('192.0.2.1')!;

interface Seg {
  flags: number;
  seq?: number;
  ack?: number;
  win?: number;
  len?: number;
  /** TCP options, a multiple of 4 bytes */
  options?: number[];
}

/** A TCP/IPv4 packet with correct checksums: client 10.0.0.1:40000 ↔ server 192.0.2.1:80. */
function tcp(dir: Dir, s: Seg): Ipv4Packet {
  const opts = s.options ?? [];
  const payload = s.len ?? 0;
  const l4len = 20 + opts.length + payload;
  const d = new Uint8Array(20 + l4len);
  d[0] = 0x45;
  writeU16(d, 2, d.length);
  d[8] = 64;
  d[9] = 6;
  const [src, dst] = dir === Dir.Original ? [CLIENT, SERVER] : [SERVER, CLIENT];
  writeU32(d, 12, src);
  writeU32(d, 16, dst);
  writeU16(d, 10, checksum(d, 0, 20));
  writeU16(d, 20, dir === Dir.Original ? 40000 : 80);
  writeU16(d, 22, dir === Dir.Original ? 80 : 40000);
  writeU32(d, 24, s.seq ?? 0);
  writeU32(d, 28, s.ack ?? 0);
  d[32] = ((20 + opts.length) / 4) << 4;
  d[33] = s.flags;
  writeU16(d, 34, s.win ?? 1000);
  d.set(opts, 40);
  writeU16(d, 36, checksum(d, 20, d.length, pseudoHeaderSum(src, dst, 6, l4len)));
  const p = Ipv4Packet.decode(d);
  if (typeof p === 'string') throw new Error(p);
  return p;
}

/** mss 1460, sackOK, nop, wscale 7 */
const SYN_OPTIONS = [2, 4, 5, 180, 4, 2, 1, 3, 3, 7, 0, 0];

function net(sysctls: Partial<Record<SysctlName, number>> = {}, kernel: KernelVersion = '6.18'): NetfilterNet {
  const sysctl = new Sysctl(KERNEL_PROFILES[kernel]);
  for (const [k, v] of Object.entries(sysctls)) sysctl.set(k as SysctlName, v);
  return new NetfilterNet(sysctl, new Prng(1), 1, 1);
}

let skbId = 0;

/** The packet through conntrack as the router sees it: nf_conntrack_in, then confirm. */
function send(n: NetfilterNet, pkt: Ipv4Packet, time: number): Skb {
  const skb = new Skb(++skbId, pkt, time, 0, null);
  const state: HookState = { hook: Hook.PreRouting, in: null, out: null, trace: null, notes: [] };
  conntrackIn(n, skb, state);
  if (skb.ct) confirm(n, skb, state);
  return skb;
}

/** A connected client/server pair through conntrack, with the sequence numbers kept. */
class Flow {
  c = 1000; // client's next seq
  s = 5000; // server's next seq
  t = 0;
  ct: Conn | null = null;
  constructor(readonly n: NetfilterNet) {}

  step(dir: Dir, flags: number, len = 0, extra: Partial<Seg> = {}): Skb {
    this.t += S;
    const seq = dir === Dir.Original ? this.c : this.s;
    const ack = dir === Dir.Original ? this.s : this.c;
    const skb = send(this.n, tcp(dir, { flags, seq, ack: flags & ACK ? ack : 0, len, win: 500, ...extra }), this.t);
    if (skb.ct) this.ct = skb.ct;
    const adv = len + (flags & (SYN | FIN) ? 1 : 0);
    if (extra.seq === undefined && !(flags & RST)) {
      if (dir === Dir.Original) this.c += adv;
      else this.s += adv;
    }
    return skb;
  }

  handshake(): void {
    this.step(Dir.Original, SYN, 0, { options: SYN_OPTIONS });
    this.step(Dir.Reply, SYN | ACK, 0, { options: SYN_OPTIONS });
    this.step(Dir.Original, ACK);
  }

  get state(): TcpState {
    return this.ct!.tcp!.state;
  }
  /** Seconds until the entry expires. */
  get timeout(): number {
    return (this.ct!.timeout - this.t) / S;
  }
}

const DIRS = [Dir.Original, Dir.Reply] as const;
const INDEX_NAMES = ['syn', 'synack', 'fin', 'ack', 'rst', 'none'];
const INDEX_FLAGS = [SYN, SYN | ACK, FIN | ACK, ACK, RST, 0];

describe('tcp_conntracks, cell by cell', () => {
  const table = kernelTable();
  const rows: [string, Dir, TcpIndex, TcpState, Expected][] = [];
  for (const dir of DIRS)
    for (let index = 0; index < 6; index++)
      for (let old = 0; old < 10; old++) rows.push([`${dir === Dir.Original ? 'ORIGINAL' : 'REPLY'} ${INDEX_NAMES[index]} in ${TCP_STATE_NAME[old]}`, dir, index, old, table[dir]![index]![old]!]);

  it('has 2 × 6 × 10 cells', () => expect(rows).toHaveLength(120));

  it.each(rows)('%s', (_name, dir, index, old, expected) => {
    const n = net();
    const orig = new Tuple(CLIENT, 40000, SERVER, 80, 6);
    const ct = n.newConn(orig, invertTuple(orig)!);
    // NONE in ORIGINAL is a new entry (tcp_new); every other cell an entry in `old` knowing
    // nothing of the windows yet, and with no annotated packet (last_index TCP_NONE_SET)
    if (!(dir === Dir.Original && old === TcpState.None)) {
      ct.status |= Status.Confirmed | Status.SeenReply;
      ct.timeout = 1000 * S;
      n.table.insert(ct);
      ct.tcp = new TcpConn(n.tcpRecords);
      ct.tcp.state = old;
      ct.tcp.lastIndex = TcpIndex.None;
      // a closed connection (FIN seen): what makes a SYN in TIME_WAIT/CLOSE reopen it
      if (old === TcpState.TimeWait || old === TcpState.Close) ct.tcp.seen(Dir.Original).flags |= CtTcpFlag.CloseInit;
    }
    const verdict = tcpPacket(n, ct, tcp(dir, { flags: INDEX_FLAGS[index]!, seq: 1000, ack: 0 }), dir, 10 * S);
    const stateAfter = ct.tcp?.state ?? TcpState.None;
    if (expected === 'invalid') {
      expect(verdict).toBe('invalid');
      expect(stateAfter).toBe(old);
    } else if (expected === 'ignored') {
      expect(verdict).toBe('accept');
      expect(stateAfter).toBe(old);
      expect(ct.tcp!.lastIndex).toBe(index); // annotated
    } else if (expected === TcpState.SynSent && old >= TcpState.TimeWait) {
      expect(verdict).toBe('repeat'); // killed; the repeated lookup creates a SYN_SENT entry
      expect(n.table.count).toBe(0);
    } else {
      expect(verdict).toBe('accept');
      expect(TCP_STATE_NAME[stateAfter]).toBe(TCP_STATE_NAME[expected]);
    }
  });
});

describe('a connection through its life', () => {
  const timeouts = {
    'net.netfilter.nf_conntrack_tcp_timeout_syn_sent': 121,
    'net.netfilter.nf_conntrack_tcp_timeout_syn_recv': 61,
    'net.netfilter.nf_conntrack_tcp_timeout_established': 432001,
    'net.netfilter.nf_conntrack_tcp_timeout_fin_wait': 122,
    'net.netfilter.nf_conntrack_tcp_timeout_close_wait': 62,
    'net.netfilter.nf_conntrack_tcp_timeout_last_ack': 31,
    'net.netfilter.nf_conntrack_tcp_timeout_time_wait': 123,
    'net.netfilter.nf_conntrack_tcp_timeout_close': 11,
    'net.netfilter.nf_conntrack_tcp_timeout_unacknowledged': 301,
    'net.netfilter.nf_conntrack_tcp_timeout_max_retrans': 251,
  } as const;

  it('takes the states and timeouts of conntrack -E (tcp-lifecycle), ASSURED with the handshake', () => {
    const f = new Flow(net(timeouts));
    const seen: [string, number, boolean][] = [];
    const note = (): void => void seen.push([TCP_STATE_NAME[f.state]!, f.timeout, f.ct!.has(Status.Assured)]);
    f.step(Dir.Original, SYN, 0, { options: SYN_OPTIONS });
    note();
    f.step(Dir.Reply, SYN | ACK, 0, { options: SYN_OPTIONS });
    note();
    f.step(Dir.Original, ACK);
    note();
    f.step(Dir.Original, ACK | PSH, 10); // data not yet acknowledged
    note();
    f.step(Dir.Reply, ACK);
    note();
    f.step(Dir.Original, FIN | ACK);
    note();
    f.step(Dir.Reply, ACK);
    note();
    f.step(Dir.Reply, FIN | ACK);
    note();
    f.step(Dir.Original, ACK);
    note();
    expect(seen).toEqual([
      ['SYN_SENT', 121, false],
      ['SYN_RECV', 61, false],
      ['ESTABLISHED', 432001, true],
      ['ESTABLISHED', 301, true],
      ['ESTABLISHED', 432001, true],
      ['FIN_WAIT', 122, true],
      ['CLOSE_WAIT', 62, true],
      ['LAST_ACK', 31, true],
      ['TIME_WAIT', 123, true],
    ]);
    expect(f.n.stats.total().invalid).toBe(0);
  });

  it('gives a RST the close timeout and CLOSE', () => {
    const f = new Flow(net(timeouts));
    f.handshake();
    f.step(Dir.Reply, RST);
    expect([TCP_STATE_NAME[f.state], f.timeout]).toEqual(['CLOSE', 11]);
  });

  it('shortens the timeout after nf_conntrack_tcp_max_retrans retransmissions', () => {
    const f = new Flow(net(timeouts));
    f.handshake();
    const seq = f.c;
    const got: number[] = [];
    for (let i = 0; i < 4; i++) {
      f.step(Dir.Original, ACK | PSH, 100, { seq });
      got.push(f.timeout);
    }
    expect(f.ct!.tcp!.retrans).toBe(3);
    expect(got).toEqual([301, 301, 301, 251]);
  });
});

describe('SYN_SENT', () => {
  it('a retransmitted SYN keeps SYN_SENT and does not renew the timeout', () => {
    const f = new Flow(net());
    f.step(Dir.Original, SYN, 0, { options: SYN_OPTIONS });
    const expiry = f.ct!.timeout;
    const first = f.ct!;
    const skb = f.step(Dir.Original, SYN, 0, { seq: 1000, options: SYN_OPTIONS });
    expect(skb.ct).toBe(first);
    expect(f.state).toBe(TcpState.SynSent);
    expect(f.ct!.timeout).toBe(expiry);
  });

  it('a reply with only a RST kills the entry', () => {
    const f = new Flow(net());
    f.step(Dir.Original, SYN);
    const skb = f.step(Dir.Reply, RST | ACK, 0, { seq: 0, ack: 1001 });
    expect(skb.ct).toBe(f.ct);
    expect(f.state).toBe(TcpState.Close);
    expect(f.n.table.count).toBe(0);
  });
});

describe('RST', () => {
  function established(sysctls: Partial<Record<SysctlName, number>> = {}): Flow {
    const f = new Flow(net(sysctls));
    f.handshake();
    f.step(Dir.Reply, ACK | PSH, 100);
    f.step(Dir.Original, ACK);
    return f;
  }

  it('at the sequence number the peer acknowledged closes the connection', () => {
    const f = established();
    const skb = f.step(Dir.Original, RST, 0, { seq: f.c });
    expect(skb.ct).not.toBeNull();
    expect([TCP_STATE_NAME[f.state], f.timeout]).toEqual(['CLOSE', 10]);
  });

  it('inside the window but not at the acknowledged number keeps ESTABLISHED (challenge ACK)', () => {
    const f = established();
    const skb = f.step(Dir.Original, RST, 0, { seq: f.c + 50 });
    expect(skb.ct).not.toBeNull();
    expect([TCP_STATE_NAME[f.state], f.timeout]).toEqual(['ESTABLISHED', 10]);
  });

  it('before the acknowledged number is invalid, unless nf_conntrack_tcp_ignore_invalid_rst', () => {
    const f = established();
    const skb = f.step(Dir.Original, RST, 0, { seq: f.c - 10 });
    expect(skb.ct).toBeNull();
    expect(f.n.stats.total().invalid).toBe(1);
    expect(f.state).toBe(TcpState.Established);

    const g = established({ 'net.netfilter.nf_conntrack_tcp_ignore_invalid_rst': 1 });
    expect(g.step(Dir.Original, RST, 0, { seq: g.c - 10 }).ct).not.toBeNull();
    expect(g.n.stats.total().invalid).toBe(0);
  });

  it('beyond the window is invalid', () => {
    const f = established();
    const skb = f.step(Dir.Original, RST, 0, { seq: f.c + 10_000_000 });
    expect(skb.ct).toBeNull();
    expect(f.state).toBe(TcpState.Established);
    expect(f.n.stats.total().invalid).toBe(1);
  });
});

describe('window checks', () => {
  it('data beyond the receiver window is INVALID with be_liberal 0 and accepted with be_liberal 1', () => {
    for (const liberal of [0, 1]) {
      const f = new Flow(net({ 'net.netfilter.nf_conntrack_tcp_be_liberal': liberal }));
      f.handshake();
      const skb = f.step(Dir.Original, ACK | PSH, 100, { seq: f.c + 1_000_000 });
      expect(skb.ct === null, `be_liberal ${liberal}`).toBe(liberal === 0);
      expect(f.n.stats.total().invalid).toBe(liberal === 0 ? 1 : 0);
      expect(f.state).toBe(TcpState.Established);
    }
  });

  it('an ACK for data never sent is INVALID', () => {
    const f = new Flow(net());
    f.handshake();
    expect(f.step(Dir.Original, ACK, 0, { ack: f.s + 100_000 }).ct).toBeNull();
  });
});

describe('mid-stream pickup (nf_conntrack_tcp_loose)', () => {
  it('an ACK creates an ESTABLISHED entry with the unacknowledged timeout; ASSURED after the reply', () => {
    const f = new Flow(net());
    f.step(Dir.Original, ACK | PSH, 10);
    expect([TCP_STATE_NAME[f.state], f.timeout, f.ct!.has(Status.Assured)]).toEqual(['ESTABLISHED', 300, false]);
    f.step(Dir.Reply, ACK);
    expect([TCP_STATE_NAME[f.state], f.timeout, f.ct!.has(Status.Assured)]).toEqual(['ESTABLISHED', 300, false]);
    f.step(Dir.Original, ACK);
    expect([TCP_STATE_NAME[f.state], f.timeout, f.ct!.has(Status.Assured)]).toEqual(['ESTABLISHED', 432000, true]);
  });

  it('is refused with nf_conntrack_tcp_loose 0', () => {
    const f = new Flow(net({ 'net.netfilter.nf_conntrack_tcp_loose': 0 }));
    expect(f.step(Dir.Original, ACK).ct).toBeNull();
    expect(f.n.table.count).toBe(0);
    expect(f.n.stats.total().invalid).toBe(1);
  });
});

describe('reopening', () => {
  it('a new SYN in TIME_WAIT kills the entry and creates a new one in SYN_SENT', () => {
    const f = new Flow(net());
    f.handshake();
    f.step(Dir.Original, FIN | ACK);
    f.step(Dir.Reply, FIN | ACK);
    f.step(Dir.Original, ACK);
    expect(f.state).toBe(TcpState.TimeWait);
    const old = f.ct!;
    f.c += 100_000;
    const skb = f.step(Dir.Original, SYN, 0, { options: SYN_OPTIONS });
    expect(skb.ct).not.toBe(old);
    expect(old.has(Status.Dying)).toBe(true);
    expect(f.state).toBe(TcpState.SynSent);
    expect([...f.n.table.connections()]).toEqual([skb.ct]);
    expect(f.n.stats.total().invalid).toBe(0);
  });

  it('on 4.15 the reopen counts invalid: nf_conntrack_in counts before it sees -NF_REPEAT', () => {
    const f = new Flow(net({}, '4.15'));
    f.handshake();
    f.step(Dir.Original, FIN | ACK);
    f.step(Dir.Reply, FIN | ACK);
    f.step(Dir.Original, ACK);
    f.c += 100_000;
    f.step(Dir.Original, SYN, 0, { options: SYN_OPTIONS });
    expect(f.state).toBe(TcpState.SynSent);
    expect(f.n.stats.total().invalid).toBe(1);
  });

  it('a SYN in ESTABLISHED is ignored: it passes, the state stays', () => {
    const f = new Flow(net());
    f.handshake();
    const skb = f.step(Dir.Original, SYN, 0, { seq: 77 });
    expect(skb.ct).toBe(f.ct);
    expect(f.state).toBe(TcpState.Established);
  });
});

describe('tcp_error', () => {
  it('rejects invalid flag combinations (SYN|FIN, FIN without ACK, no flags)', () => {
    for (const flags of [SYN | FIN, FIN, 0, SYN | RST]) {
      const n = net();
      expect(send(n, tcp(Dir.Original, { flags, seq: 1 }), S).ct, `flags ${flags}`).toBeNull();
      expect(n.stats.total().invalid).toBe(1);
    }
  });

  it.each([
    ['4.15', { error: 1, invalid: 1 }],
    ['5.4', { error: 0, invalid: 1 }],
  ] as const)('on %s counts %o (4.15: tcp_error is l4proto->error, before the lookup)', (kernel, counters) => {
    const n = net({}, kernel);
    expect(send(n, tcp(Dir.Original, { flags: SYN | FIN, seq: 1 }), S).ct).toBeNull();
    expect(n.stats.total()).toMatchObject(counters);
  });
});
