/**
 * Rulesets for case (m): the bench router with an OpenWrt-fw4-style nft ruleset of about N rules
 * using the constructs of real rulesets (define, ct state vmap, interface sets, bitwise tcp
 * flags, limit objects, maps with data, reject with icmpx, IPv6 rules of an inet table, chain
 * bindings), against the same router with 10 such rules. Most of the long chain's rules name one
 * destination, as per-host port-forward and block rules do; the workload's traffic is to public
 * servers, so every new connection reaches the end of the chain.
 */
import { writeFileSync } from 'node:fs';

const HEAD = `define lan_devices = { "lan0" }
define wan_devices = { "wan0" }
table inet fw {
  set blocked { type ipv4_addr; flags interval; elements = { 192.0.2.0/24, 198.18.0.0-198.19.255.255 } }
  map marks { typeof ip saddr : meta mark; flags interval; elements = { 10.0.0.0/16 : 0x10 } }
  limit syn_limit { rate 100000/second burst 100000 packets }
  chain forward {
    type filter hook forward priority filter; policy drop;
    ct state vmap { established : accept, related : accept, invalid : drop }
    tcp flags & (fin | syn | rst | ack) == syn limit name "syn_limit" counter
    meta nfproto ipv6 icmpv6 type { nd-router-solicit, echo-request } accept
    iifname $lan_devices jump forward_lan
    iifname $wan_devices ip daddr @blocked drop
    jump { meta l4proto { tcp, udp } reject with icmpx type port-unreachable
    }
  }
  chain forward_lan {
`;
const TAIL = `    meta mark set ip saddr map @marks
    oifname $wan_devices accept
  }
}
table ip nat {
  chain post { type nat hook postrouting priority srcnat; oifname "wan0" masquerade }
}
`;

/** One per-destination rule, its features taken in turn. */
function rule(i: number): string {
  const daddr = `ip daddr 100.${64 + ((i >> 16) & 63)}.${(i >> 8) & 255}.${i & 255}`;
  switch (i % 6) {
    case 0:
      return `${daddr} tcp dport { 22, 80, 443 } ct state new counter drop`;
    case 1:
      return `${daddr} iifname { "lan0", "lan9" } meta l4proto udp th dport 53 reject with icmpx type admin-prohibited`;
    case 2:
      return `${daddr} meta nfproto ipv4 tcp flags & (syn | ack) == syn meta mark set 0x20 accept`;
    case 3:
      return `${daddr} ip ttl < 5 drop`;
    case 4:
      return `${daddr} ct status dnat accept`;
    default:
      return `ip6 daddr 2001:db8::${i.toString(16)} drop`;
  }
}

/** Writes rules-nft-small.txt (10 rules) and rules-nft-large.txt (about `rules` rules); returns their rule counts. */
export function writeNftRulesets(dir: string, rules: number): { small: number; large: number } {
  // the fixed rules: forward's 6, the binding's 1, forward_lan's 2, nat's 1
  const fixed = 10;
  const body = (n: number): string => Array.from({ length: n }, (_, i) => `    ${rule(i)}\n`).join('');
  writeFileSync(`${dir}/rules-nft-small.txt`, HEAD + TAIL);
  writeFileSync(`${dir}/rules-nft-large.txt`, HEAD + body(rules - fixed) + TAIL);
  return { small: fixed, large: rules };
}
