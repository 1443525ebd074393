/**
 * The protocol templates `nft monitor trace` decodes a packet's headers with: nftables 1.0.6's
 * src/proto.c (proto_ip, proto_ip6, the transport protocols they link to) and the datatypes of
 * their fields (src/datatype.c, src/proto.c symbol tables). Each template keeps proto.c's index
 * order, which payload_expr_expand walks; offsets and lengths are in bits.
 */
import { IPPROTO } from '../netfilter/constants.js';
import { formatIpv4 } from '../packet/ipv4-addr.js';
import { formatIpv6, ipv6Handle } from '../packet/ipv6-addr.js';
import { NETBASE_PROTOCOLS } from './netbase-protocols.js';

/** A field's value as its datatype prints it; `header` holds the field at bit `offset`. */
type Printer = (value: bigint, header: Uint8Array, offset: number) => string;

export interface Template {
  readonly token: string;
  readonly offset: number;
  readonly len: number;
  readonly print: Printer;
}

export interface ProtoDesc {
  readonly name: string;
  readonly templates: readonly Template[];
  /** format.order: these fields first, in this order; the others after them as expanded. */
  readonly order: readonly string[];
  /** format.filter and the checksum_key: fields trace_gen_stmts leaves out. */
  readonly hidden: ReadonlySet<string>;
  /** The field naming the next header (proto_key_is_protocol), and the protocols it links to (.protocols). */
  readonly protocolKey?: string;
  readonly upper?: ReadonlyMap<number, ProtoDesc>;
  /** A protocol whose header links to another at the same base (AH, IPComp): natsim does not decode the chain. */
  readonly chained?: true;
}

const decimal: Printer = (v) => v.toString();
/** xinteger_type: raw payload in hex, "0x%Zx" (no leading zeros). */
export const hex: Printer = (v) => `0x${v.toString(16)}`;
const ipaddr: Printer = (v) => formatIpv4(Number(v));
const ip6addr: Printer = (_v, h, offset) => formatIpv6(ipv6Handle(h, offset >> 3));
const inetProtocol: Printer = (v) => NETBASE_PROTOCOLS.get(Number(v)) ?? v.toString();

/** symbolic_constant_print: the first symbol with the value, else the base type's format. */
function symbols(table: readonly (readonly [string, number])[], otherwise: Printer = decimal): Printer {
  const byValue = new Map<number, string>();
  for (const [name, value] of table) if (!byValue.has(value)) byValue.set(value, name);
  return (v, h, o) => byValue.get(Number(v)) ?? otherwise(v, h, o);
}

const t = (token: string, offset: number, len: number, print: Printer = decimal): Template => ({ token, offset, len, print });

interface DescOptions {
  readonly order?: readonly string[];
  readonly hidden?: readonly string[];
  readonly protocolKey?: string;
  readonly upper?: ReadonlyMap<number, ProtoDesc>;
  readonly chained?: true;
}

function desc(name: string, templates: readonly Template[], o: DescOptions = {}): ProtoDesc {
  return { name, templates, order: o.order ?? [], hidden: new Set(o.hidden ?? []), protocolKey: o.protocolKey, upper: o.upper, chained: o.chained };
}

/** dscp_type_tbl, "0x%.2Zx" otherwise */
const dscp = symbols(
  [['cs0', 0x00], ['cs1', 0x08], ['cs2', 0x10], ['cs3', 0x18], ['cs4', 0x20], ['cs5', 0x28], ['cs6', 0x30], ['cs7', 0x38], ['df', 0x00], ['be', 0x00], ['lephb', 0x01],
    ['af11', 0x0a], ['af12', 0x0c], ['af13', 0x0e], ['af21', 0x12], ['af22', 0x14], ['af23', 0x16], ['af31', 0x1a], ['af32', 0x1c], ['af33', 0x1e], ['af41', 0x22], ['af42', 0x24], ['af43', 0x26], ['va', 0x2c], ['ef', 0x2e]],
  (v) => `0x${v.toString(16).padStart(2, '0')}`,
);
/** ecn_type_tbl */
const ecn = symbols([['not-ect', 0], ['ect1', 1], ['ect0', 2], ['ce', 3]]);

/**
 * tcp_flag_tbl: one flag by name; several (a bitmask with no symbol) in hex, as the recordings
 * show 0x18 and 0x11. A bitmask's equality is printed with its "==" (relational_expr_print).
 */
const tcpFlagName = symbols([['fin', 0x01], ['syn', 0x02], ['rst', 0x04], ['psh', 0x08], ['ack', 0x10], ['urg', 0x20], ['ecn', 0x40], ['cwr', 0x80]], hex);
const tcpFlag: Printer = (v, h, o) => `== ${tcpFlagName(v, h, o)}`;

const icmpType = symbols([
  ['echo-reply', 0], ['destination-unreachable', 3], ['source-quench', 4], ['redirect', 5], ['echo-request', 8], ['router-advertisement', 9], ['router-solicitation', 10], ['time-exceeded', 11],
  ['parameter-problem', 12], ['timestamp-request', 13], ['timestamp-reply', 14], ['info-request', 15], ['info-reply', 16], ['address-mask-request', 17], ['address-mask-reply', 18],
]);
/** icmp_code_tbl: names for codes whatever the type (an echo's code 0 is "net-unreachable"). */
const icmpCode = symbols([['net-unreachable', 0], ['host-unreachable', 1], ['prot-unreachable', 2], ['port-unreachable', 3], ['frag-needed', 4], ['net-prohibited', 9], ['host-prohibited', 10], ['admin-prohibited', 13]]);
/** icmp6_type_tbl */
const icmp6Type = symbols([
  ['destination-unreachable', 1], ['packet-too-big', 2], ['time-exceeded', 3], ['parameter-problem', 4], ['echo-request', 128], ['echo-reply', 129], ['mld-listener-query', 130], ['mld-listener-report', 131],
  ['mld-listener-done', 132], ['nd-router-solicit', 133], ['nd-router-advert', 134], ['nd-neighbor-solicit', 135], ['nd-neighbor-advert', 136], ['nd-redirect', 137], ['router-renumbering', 138],
  ['ind-neighbor-solicit', 141], ['ind-neighbor-advert', 142], ['mld2-listener-report', 143],
]);
/** icmpv6_code_tbl: likewise whatever the type (an echo's code 0 is "no-route"). */
const icmp6Code = symbols([['no-route', 0], ['admin-prohibited', 1], ['addr-unreachable', 3], ['port-unreachable', 4], ['policy-fail', 5], ['reject-route', 6]]);
const igmpType = symbols([['membership-query', 0x11], ['membership-report-v1', 0x12], ['membership-report-v2', 0x16], ['membership-report-v3', 0x22], ['leave-group', 0x17]]);
const dccpType = symbols([['request', 0], ['response', 1], ['data', 2], ['ack', 3], ['dataack', 4], ['closereq', 5], ['close', 6], ['reset', 7], ['sync', 8], ['syncack', 9]]);

const ports = [t('sport', 0, 16), t('dport', 16, 16)];

const tcp = desc('tcp', [...ports, t('sequence', 32, 32), t('ackseq', 64, 32), t('doff', 96, 4), t('reserved', 100, 4), t('flags', 104, 8, tcpFlag), t('window', 112, 16), t('checksum', 128, 16), t('urgptr', 144, 16)], {
  hidden: ['sequence', 'ackseq', 'doff', 'reserved', 'urgptr', 'checksum'],
});
const udp = desc('udp', [...ports, t('length', 32, 16), t('checksum', 48, 16)], { hidden: ['checksum'] });
// proto_udplite has no checksum_key: its checksum is printed
const udplite = desc('udplite', [...ports, t('csumcov', 32, 16), t('checksum', 48, 16)]);
const dccp = desc('dccp', [...ports, t('type', 67, 4, dccpType)]);
const sctp = desc('sctp', [...ports, t('vtag', 32, 32), t('checksum', 64, 32)], { hidden: ['checksum'] });
const esp = desc('esp', [t('spi', 0, 32), t('sequence', 32, 32)]);
const ah = desc('ah', [], { chained: true });
const comp = desc('comp', [], { chained: true });
const igmp = desc('igmp', [t('type', 0, 8, igmpType), t('mrt', 8, 8), t('checksum', 16, 16), t('group', 32, 32)], { hidden: ['checksum'] });
// the id and sequence templates come before gateway and mtu at the same offsets: expanded
// before the type is known (th_dep is still unset), every message gets them
const icmp = desc('icmp', [t('type', 0, 8, icmpType), t('code', 8, 8, icmpCode), t('checksum', 16, 16), t('id', 32, 16), t('sequence', 48, 16), t('gateway', 32, 32), t('mtu', 48, 16)], { hidden: ['checksum'] });
// likewise parameter-problem, the first template at offset 32, for every ICMPv6 message
const icmp6 = desc('icmpv6', [t('type', 0, 8, icmp6Type), t('code', 8, 8, icmp6Code), t('checksum', 16, 16), t('parameter-problem', 32, 32), t('mtu', 32, 32), t('id', 32, 16), t('sequence', 48, 16), t('max-delay', 32, 16)], {
  hidden: ['checksum'],
});

/** proto_ip's and proto_ip6's .protocols: the same transport protocols. */
const INET_UPPER: ReadonlyMap<number, ProtoDesc> = new Map([
  [IPPROTO.ICMP, icmp],
  [2, igmp],
  [IPPROTO.ICMPV6, icmp6],
  [50, esp],
  [51, ah],
  [108, comp],
  [IPPROTO.UDP, udp],
  [IPPROTO.UDPLITE, udplite],
  [IPPROTO.TCP, tcp],
  [33, dccp],
  [IPPROTO.SCTP, sctp],
]);

export const PROTO_IP = desc(
  'ip',
  [t('version', 0, 4), t('hdrlength', 4, 4), t('dscp', 8, 6, dscp), t('ecn', 14, 2, ecn), t('length', 16, 16), t('id', 32, 16), t('frag-off', 48, 16), t('ttl', 64, 8), t('protocol', 72, 8, inetProtocol), t('checksum', 80, 16), t('saddr', 96, 32, ipaddr), t('daddr', 128, 32, ipaddr)],
  { order: ['saddr', 'daddr', 'dscp', 'ecn', 'ttl', 'id', 'protocol', 'length'], hidden: ['version', 'hdrlength', 'frag-off', 'checksum'], protocolKey: 'protocol', upper: INET_UPPER },
);

export const PROTO_IP6 = desc(
  'ip6',
  [t('version', 0, 4), t('dscp', 4, 6, dscp), t('ecn', 10, 2, ecn), t('flowlabel', 12, 20), t('length', 32, 16), t('nexthdr', 48, 8, inetProtocol), t('hoplimit', 56, 8), t('saddr', 64, 128, ip6addr), t('daddr', 192, 128, ip6addr)],
  { order: ['saddr', 'daddr', 'dscp', 'ecn', 'hoplimit', 'flowlabel', 'nexthdr', 'length'], hidden: ['version'], protocolKey: 'nexthdr', upper: INET_UPPER },
);
