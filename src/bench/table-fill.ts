/**
 * Case (h), run as its own process with --expose-gc: a conntrack table holding `entries` live,
 * masqueraded TCP connections, built directly on NetfilterNet (table and NAT bysource index, as
 * confirm and MASQUERADE leave them), without packets. Reports the memory each entry costs (heap
 * and ArrayBuffers) and how long a lookup (ConntrackTable.find) takes, for hits and misses, as
 * one JSON line. The second argument is the family of the connections: ipv4, ipv6, or mixed (every other one IPv6).
 */
import { Sysctl } from '../host/sysctl.js';
import { IPPROTO } from '../netfilter/constants.js';
import { Status } from '../netfilter/conntrack/conn.js';
import { TcpConn } from '../netfilter/conntrack/tcp.js';
import { TcpState } from '../netfilter/conntrack/tcp-state.js';
import { Dir, Tuple } from '../netfilter/conntrack/tuple.js';
import { NetfilterNet } from '../netfilter/net.js';
import { Prng } from '../sim/prng.js';
import { handleOfWords, parseIpv6 } from '../packet/ipv6-addr.js';

const entries = Number(process.argv[2] ?? 1_000_000);
const family = process.argv[3] ?? 'ipv4';
if (family !== 'ipv4' && family !== 'ipv6' && family !== 'mixed') throw new Error(`table-fill: family ${family}: ipv4, ipv6 or mixed`);
const lookups = 2_000_000;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('table-fill needs node --expose-gc');

const WAN4 = 0xcb007101; // 203.0.113.1
const WAN6 = parseIpv6('2001:db8:ffff::1')!;

/** Connection i's client, server and masquerading address: 10.x.y.z → 93.0.x.y, or fd00::i → 2001:db8::x. */
function addresses(i: number): { client: number; server: number; wan: number } {
  if (family === 'ipv4' || (family === 'mixed' && i % 2 === 0)) return { client: (0x0a000000 | (i + 1)) >>> 0, server: (0x5d000000 | (i & 0xffff)) >>> 0, wan: WAN4 };
  const w = new Uint32Array([0xfd000000, 0, i >>> 16, (i + 1) & 0xffff]);
  return { client: handleOfWords(w), server: handleOfWords(new Uint32Array([0x20010db8, 0, 0, i & 0xffff])), wan: WAN6 };
}
const prng = new Prng(7);
const sysctl = new Sysctl();
sysctl.set('net.netfilter.nf_conntrack_max', entries); // the table must take them all
const net = new NetfilterNet(sysctl, prng, 1, prng.seed);

/**
 * The JavaScript heap and the ArrayBuffers outside it (the flat storage of conntrack/slab.ts and
 * packet/ipv6-addr.ts), once garbage is gone: a collection frees the ArrayBuffers a slab outgrew
 * only when a background sweep gets to them, so memoryUsage() right after gc() still counts some
 * (8-25 bytes an entry, varying run to run). A pause, then a second collection, lets it finish.
 */
async function memoryUsed(): Promise<number> {
  gc!();
  await new Promise((done) => setTimeout(done, 200));
  gc!();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

const before = await memoryUsed();
// Client i: 10.x.y.z (16M addresses), a port, to one of 65536 servers on 443; the reply tuple
// is the masqueraded one. Distinct clients keep every tuple unique.
for (let i = 0; i < entries; i++) {
  const { client, server, wan } = addresses(i);
  const sport = 32768 + (i % 28232);
  const conn = net.newConn(new Tuple(client, sport, server, 443, IPPROTO.TCP), new Tuple(server, 443, wan, sport, IPPROTO.TCP));
  conn.status = Status.Confirmed | Status.SeenReply | Status.Assured | Status.SrcNat | Status.SrcNatDone;
  conn.timeout = 432_000e9;
  conn.masqIndex = 3;
  conn.tcp = established(new TcpConn(net.tcpRecords));
  net.table.insert(conn);
  net.bysource.add(conn);
}
const after = await memoryUsed();

// Queries built beforehand so the timed loop is find() alone: half reply-direction hits
// (what every inbound packet does), half misses (what a new flow's first packet does).
const queries: Tuple[] = [];
for (let i = 0; i < lookups; i++) {
  const k = prng.below(entries);
  const { server, wan } = addresses(k);
  const sport = 32768 + (k % 28232);
  queries.push(new Tuple(server, i % 2 === 0 ? 443 : 80, wan, sport, IPPROTO.TCP));
}
let hits = 0;
for (let i = 0; i < 100_000; i++) if (net.table.find(queries[i]!)) hits++; // warm-up: let the JIT settle
hits = 0;
const t0 = process.hrtime.bigint();
for (const q of queries) if (net.table.find(q)) hits++;
const ns = Number(process.hrtime.bigint() - t0);

process.stdout.write(
  `${JSON.stringify({
    family,
    entries: net.table.count,
    buckets: net.table.size,
    bytesPerEntry: (after - before) / entries,
    heapMb: after / 2 ** 20,
    lookups,
    hits,
    nsPerFind: ns / lookups,
    maxRssKb: process.resourceUsage().maxRSS,
  })}\n`,
);

/**
 * ct->proto.tcp as an established connection leaves it: sequence numbers, windows and the last
 * packet's fields are arbitrary u32 values, half of them at or above 2^31 (which a JavaScript
 * engine may store differently from small ones, so zeros would under-report an entry's size).
 */
function established(tcp: TcpConn): TcpConn {
  for (const s of [tcp.seen(Dir.Original), tcp.seen(Dir.Reply)]) {
    s.tdEnd = prng.u32();
    s.tdMaxend = prng.u32();
    s.tdMaxwin = 64240;
    s.tdMaxack = prng.u32();
    s.tdScale = 7;
  }
  tcp.state = TcpState.Established;
  tcp.lastSeq = prng.u32();
  tcp.lastAck = prng.u32();
  tcp.lastEnd = prng.u32();
  tcp.lastWin = 502;
  return tcp;
}
