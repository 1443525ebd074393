/**
 * Case (g), run as its own process: the cost of one SNAT port allocation (nf_nat_setup_info →
 * get_unique_tuple) when the port range is nearly or completely full. The kernel bounds the
 * search — 128 attempts, then rounds of half as many from new random offsets — so the cost
 * must stay flat however large the range; a full range ends with the last tuple tried.
 * Prints one JSON line: per range size and fill, microseconds per allocation.
 */
import { Sysctl } from '../host/sysctl.js';
import { IPPROTO } from '../netfilter/constants.js';
import { Conn, Status } from '../netfilter/conntrack/conn.js';
import { invertTuple, Tuple } from '../netfilter/conntrack/tuple.js';
import { NetfilterNet } from '../netfilter/net.js';
import { natSetupInfo } from '../netfilter/nat/setup.js';
import { ManipType } from '../netfilter/nat/unique-tuple.js';
import { NatFlag, type NatRange } from '../netfilter/rules/model.js';
import { Prng } from '../sim/prng.js';

const WAN = 0xcb007101; // 203.0.113.1
const SERVER = 0x5d000001;
const ALLOCATIONS = 2000;

function conn(net: NetfilterNet, client: number, sport: number): Conn {
  const orig = new Tuple(client, sport, SERVER, 443, IPPROTO.UDP);
  return net.newConn(orig, invertTuple(orig)!);
}

/** Fills `used` ports of a range of `size` with confirmed entries, then times new allocations. */
function measure(size: number, used: number): number {
  const net = new NetfilterNet(new Sysctl(), new Prng(3), 1, 3);
  const range: NatRange = { flags: NatFlag.MapIps | NatFlag.ProtoSpecified, minAddr: WAN, maxAddr: WAN, minProto: 10000, maxProto: 10000 + size - 1, baseProto: 0 };
  const search = (ct: Conn) => ({ net, ct, now: 0, cpu: 0, notes: null });
  for (let i = 0; i < used; i++) {
    // pin each filler to its own port so that the range fills exactly
    const ct = conn(net, 0x0a000000 + i, 20000);
    natSetupInfo(search(ct), { ...range, minProto: 10000 + i, maxProto: 10000 + i }, ManipType.Src);
    ct.status |= Status.Confirmed;
    ct.timeout = 1e15;
    net.table.insert(ct);
  }
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < ALLOCATIONS; i++) natSetupInfo(search(conn(net, 0x0b000000 + i, 30000)), range, ManipType.Src); // never confirmed: the fill stays
  const us = Number(process.hrtime.bigint() - t0) / 1e3 / ALLOCATIONS;
  return us;
}

const results = [1024, 65536].flatMap((size) => [0.5, 0.99, 1].map((fill) => ({ size, fill, usPerAlloc: measure(size, Math.floor(size * fill)) })));
process.stdout.write(JSON.stringify(results) + '\n');
