/**
 * The checks a received IPv4 packet meets before any netfilter hook (net/ipv4/ip_input.c):
 * ip_rcv_core drops a frame for another host's MAC (PACKET_OTHERHOST) and a header whose
 * checksum does not verify (IpInHdrErrors and IpExtInCsumErrors); ip_rcv_finish_core's
 * ip_rcv_options runs ip_options_compile on the options, whose error is a parameter problem
 * (IpInHdrErrors, ICMP_PARAMETERPROB pointing at the bad byte), and refuses source routing
 * while accept_source_route is 0 (its default). The header's version, length and total length
 * were checked when the bytes became a packet (Ipv4Packet.adopt).
 */
import type { Host } from '../host/host.js';
import type { Ipv4Skb } from '../netfilter/skb.js';
import { checksum } from '../packet/checksum.js';
import { ICMP_PARAMETERPROB } from '../packet/icmp.js';
import { icmpSend } from './icmp.js';

const IPOPT_END = 0;
const IPOPT_NOOP = 1;
const IPOPT_RR = 7;
const IPOPT_TIMESTAMP = 68;
const IPOPT_LSRR = 131;
const IPOPT_SSRR = 137;

/** True when the packet goes on to PRE_ROUTING; otherwise it was counted and dropped here. */
export function ipRcvCore(host: Host, skb: Ipv4Skb): boolean {
  if (skb.otherHost) {
    host.dropped(skb, null, 'PACKET_OTHERHOST: the frame was addressed to another host (ip_rcv_core)', null, 'ip_rcv_core');
    return false;
  }
  const data = skb.pkt.data;
  const ihl = skb.pkt.l4off;
  if (checksum(data, 0, ihl) !== 0) {
    host.nf.mib.inc('IpExtInCsumErrors');
    host.nf.mib.inc('IpInHdrErrors');
    host.dropped(skb, null, 'bad IPv4 header checksum (ip_rcv_core: IpInHdrErrors, IpExtInCsumErrors)', null, 'ip_rcv_core');
    return false;
  }
  return true;
}

/** ip_rcv_options: true when the packet's options (if any) let it go on to routing. */
export function ipRcvOptions(host: Host, skb: Ipv4Skb): boolean {
  const ihl = skb.pkt.l4off;
  if (ihl === 20) return true;
  const bad = compileOptions(skb.pkt.data, ihl);
  if (bad.kind === 'error') {
    host.nf.mib.inc('IpInHdrErrors');
    icmpSend(host, skb, ICMP_PARAMETERPROB, 0, skb.time, (bad.pointer << 24) >>> 0);
    host.dropped(skb, null, `malformed IP options: ${bad.why} (ip_options_compile: IpInHdrErrors, parameter problem at byte ${bad.pointer})`, null, 'ip_options_compile');
    return false;
  }
  if (bad.kind === 'source-route') {
    host.dropped(skb, null, 'source route option with accept_source_route=0 (ip_rcv_options)', null, 'ip_rcv_options');
    return false;
  }
  return true;
}

type Compiled = { readonly kind: 'ok' } | { readonly kind: 'source-route' } | { readonly kind: 'error'; readonly pointer: number; readonly why: string };

/** ip_options_compile on a received packet's options (bytes 20 .. ihl of `d`). */
function compileOptions(d: Uint8Array, ihl: number): Compiled {
  let sourceRoute = false;
  let at = 20;
  while (at < ihl) {
    const type = d[at]!;
    if (type === IPOPT_END) break;
    if (type === IPOPT_NOOP) {
      at++;
      continue;
    }
    if (at + 1 >= ihl) return { kind: 'error', pointer: at, why: `option ${type} has no length byte` };
    const len = d[at + 1]!;
    if (len < 2 || at + len > ihl) return { kind: 'error', pointer: at, why: `option ${type} length ${len} does not fit the header` };
    switch (type) {
      case IPOPT_LSRR:
      case IPOPT_SSRR:
      case IPOPT_RR:
        if (len < 3) return { kind: 'error', pointer: at + 1, why: `option ${type} length ${len} is under 3` };
        if (d[at + 2]! < 4) return { kind: 'error', pointer: at + 2, why: `option ${type} pointer ${d[at + 2]} is under 4` };
        if (d[at + 2]! <= len && d[at + 2]! + 3 > len) return { kind: 'error', pointer: at + 2, why: `option ${type} pointer ${d[at + 2]} leaves no room for an address` };
        if (type !== IPOPT_RR && sourceRoute) return { kind: 'error', pointer: at, why: 'a second source route option' };
        if (type !== IPOPT_RR) sourceRoute = true;
        break;
      case IPOPT_TIMESTAMP:
        if (len < 4) return { kind: 'error', pointer: at + 1, why: `timestamp option length ${len} is under 4` };
        if (d[at + 2]! < 5) return { kind: 'error', pointer: at + 2, why: `timestamp option pointer ${d[at + 2]} is under 5` };
        break;
      default:
        // an option the kernel does not know is passed over on a received packet
        break;
    }
    at += len;
  }
  return sourceRoute ? { kind: 'source-route' } : { kind: 'ok' };
}
