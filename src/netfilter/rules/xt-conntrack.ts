/**
 * `-m conntrack` (net/netfilter/xt_conntrack.c, revision 3 as iptables 1.8 writes it): the
 * packet's entry by its state, its protocol, the addresses and ports of either tuple, its status
 * bits and the packet's direction, each option invertible on its own. conntrack_mt tests them in
 * that order, and a packet without an entry (invalid or untracked) matches only through
 * --ctstate: with any other option, and no entry, the rule does not match, whatever is inverted.
 * A rule with --ctstate alone is the plain state match (model 'ctstate').
 */
import type { RuleContext } from './context.js';
import { ctStateOption, parseXtAddress, badAddress, type OptionReader } from './iptables-modules.js';
import type { Match, PortRange, Prefix, XtMatch } from './model.js';
import { parsePortRange, parseProto } from './syntax.js';
import type { XtCheck, XtMatchOptions } from './xt-options.js';
import { Dir } from '../conntrack/tuple.js';
import { ctinfoDir } from '../conntrack/conn.js';
import { inInetPrefix } from '../../packet/inet-addr.js';

/** One tested property, and whether '!' inverted it (invert_flags). */
interface Test<T> {
  readonly value: T;
  readonly invert: boolean;
}

/** A tuple's address or port option: which tuple (ORIGINAL, REPLY) and which end. */
interface TupleField<T> extends Test<T> {
  readonly dir: Dir;
  readonly end: 'src' | 'dst';
}

/** libxt_conntrack's --ctstatus names (conntrack_ps_status); NONE is no bit, and matches no entry. */
const STATUS_NAME: Readonly<Record<string, number>> = { NONE: 0, EXPECTED: 1 << 0, SEEN_REPLY: 1 << 1, ASSURED: 1 << 2, CONFIRMED: 1 << 3 };

const ADDRESS_OPTION: Readonly<Record<string, [Dir, 'src' | 'dst']>> = {
  '--ctorigsrc': [Dir.Original, 'src'],
  '--ctorigdst': [Dir.Original, 'dst'],
  '--ctreplsrc': [Dir.Reply, 'src'],
  '--ctrepldst': [Dir.Reply, 'dst'],
};

const PORT_OPTION: Readonly<Record<string, [Dir, 'src' | 'dst']>> = {
  '--ctorigsrcport': [Dir.Original, 'src'],
  '--ctorigdstport': [Dir.Original, 'dst'],
  '--ctreplsrcport': [Dir.Reply, 'src'],
  '--ctrepldstport': [Dir.Reply, 'dst'],
};

/**
 * What one -m conntrack tests (struct xt_conntrack_mtinfo3: match_flags, invert_flags and the
 * values), filled in by the options as they are read; null or empty: not tested.
 */
interface ConntrackTests {
  state: Test<number> | null;
  /** --ctdir: the packet's direction (REPLY is ORIGINAL inverted, as libxt_conntrack stores it). */
  original: boolean | null;
  readonly addresses: TupleField<Prefix>[];
  proto: Test<number> | null;
  readonly ports: TupleField<PortRange>[];
  status: Test<number> | null;
}

class XtConntrack implements XtMatch {
  readonly name = 'conntrack';
  readonly stateful = false;
  readonly needsConntrack = true;

  constructor(private readonly t: ConntrackTests) {}

  /** conntrack_mt */
  match(ctx: RuleContext): boolean {
    const t = this.t;
    if (t.state && ((ctx.ctState() & t.state.value) !== 0) === t.state.invert) return false;
    const ct = ctx.skb.ct;
    if (!ct || ctx.skb.untracked) return t.state !== null;
    if (t.original !== null && (ctinfoDir(ctx.skb.ctinfo) === Dir.Original) !== t.original) return false;
    // conntrack_mt_origsrc … _repldst: the tuple's address under the option's mask
    for (const a of t.addresses) {
      if (inInetPrefix(a.end === 'src' ? ct.src(a.dir) : ct.dst(a.dir), a.value) === a.invert) return false;
    }
    // ct_proto_port_check_v3: the protocol, then the ports (src.u.all / dst.u.all: an ICMP entry's id and type/code)
    if (t.proto && (ct.proto === t.proto.value) === t.proto.invert) return false;
    for (const p of t.ports) {
      const port = p.end === 'src' ? ct.srcU(p.dir) : ct.dstU(p.dir);
      if ((port >= p.value.min && port <= p.value.max) === p.invert) return false;
    }
    if (t.status && ((ct.status & t.status.value) !== 0) === t.status.invert) return false;
    return true;
  }
}

/** libxt_conntrack's options, as iptables-save writes them after `-m conntrack`. */
export class ConntrackOptions implements XtMatchOptions {
  /** The tests as the options give them; the match keeps this record. */
  private readonly t: ConntrackTests = {
    state: null,
    original: null,
    addresses: [],
    proto: null,
    ports: [],
    status: null,
  };

  read(r: OptionReader): boolean {
    const t = this.t;
    const invert = r.negate;
    const address = ADDRESS_OPTION[r.option];
    const port = PORT_OPTION[r.option];
    if (address) {
      const text = r.value();
      t.addresses.push({ dir: address[0], end: address[1], invert, value: parseXtAddress(text, r.nfproto) ?? r.fail(badAddress(text, r.nfproto)) });
    } else if (port) {
      const text = r.value();
      t.ports.push({ dir: port[0], end: port[1], invert, value: parsePortRange(text, ':') ?? r.fail(`${r.option}: bad port or port range '${text}'`) });
    } else if (r.option === '--ctstate') t.state = { invert, value: ctStateOption(r) };
    else if (r.option === '--ctproto') {
      const text = r.value();
      t.proto = { invert, value: parseProto(text) ?? r.fail(`--ctproto: unknown protocol '${text}'`) };
    } else if (r.option === '--ctstatus') t.status = { invert, value: statusBits(r) };
    else if (r.option === '--ctdir') t.original = direction(r);
    else if (r.option === '--ctexpire') {
      r.fail("--ctexpire is not modelled (an entry's remaining time in whole seconds, nf_ct_expires / HZ, which for a packet's unconfirmed entry depends on the kernel's jiffies)");
    } else return false;
    return true;
  }

  build(check: XtCheck): Match {
    const t = this.t;
    const others = t.original !== null || t.addresses.length > 0 || t.proto !== null || t.ports.length > 0 || t.status !== null;
    if (others) return { kind: 'xt', module: new XtConntrack(t) };
    if (t.state === null) check.fail('-m conntrack needs one or more of its options');
    return { kind: 'ctstate', negate: t.state.invert, states: t.state.value };
  }
}

function statusBits(r: OptionReader): number {
  let bits = 0;
  for (const name of r.value().split(',')) {
    const bit = STATUS_NAME[name.toUpperCase()];
    if (bit === undefined) r.fail(`--ctstatus: unknown status '${name}' (${Object.keys(STATUS_NAME).join(', ')})`);
    bits |= bit;
  }
  return bits;
}

/** --ctdir ORIGINAL | REPLY (libxt_conntrack takes no '!' before it). */
function direction(r: OptionReader): boolean {
  if (r.negate) r.fail("--ctdir cannot be inverted: it takes ORIGINAL or REPLY");
  const text = r.value().toUpperCase();
  if (text !== 'ORIGINAL' && text !== 'REPLY') r.fail(`--ctdir takes ORIGINAL or REPLY, not '${text}'`);
  return text === 'ORIGINAL';
}
