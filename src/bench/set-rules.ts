/**
 * Rulesets for case (p): the bench router with a blocklist of N addresses in FORWARD, once as an
 * nft set (`ip daddr @blocked drop`) and once as an ipset (`-m set --match-set blocked dst -j
 * DROP`), and for the IPv6 workload a list of N /64 prefixes as an nft interval set (`ip6 daddr
 * @blocked6 drop`). The addresses are in 100.64.0.0/10 and 2001:db8:1000::/36, where the
 * workload sends nothing: every packet is looked up and found in none, as most traffic past a
 * blocklist is.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The i-th blocked address, in 100.64.0.0/10. */
function blocked(i: number): string {
  return `100.${64 + ((i >> 16) & 63)}.${(i >> 8) & 255}.${i & 255}`;
}

/** The i-th blocked IPv6 prefix, a /64 in 2001:db8:1000::/36. */
function blocked6(i: number): string {
  return `2001:db8:${(0x1000 + (i >> 16)).toString(16)}:${(i & 0xffff).toString(16)}::/64`;
}

/** Writes `rules-set-nft.txt`, `rules-set-ipt.txt`, `rules-set-ipsets.txt` and `rules-set6-nft.txt` into `dir`; returns their file names. */
export function writeSetRulesets(dir: string, addresses: number): { readonly nft: string; readonly iptables: string; readonly ipsets: string; readonly nft6: string } {
  const list = Array.from({ length: addresses }, (_, i) => blocked(i));
  const files = { nft: 'rules-set-nft.txt', iptables: 'rules-set-ipt.txt', ipsets: 'rules-set-ipsets.txt', nft6: 'rules-set6-nft.txt' };
  writeFileSync(
    join(dir, files.nft6),
    `table inet filter {
  set blocked6 { type ipv6_addr; flags interval; elements = { ${Array.from({ length: addresses }, (_, i) => blocked6(i)).join(', ')} } }
  chain forward { type filter hook forward priority filter; ip6 daddr @blocked6 drop }
}
table inet nat {
  chain post { type nat hook postrouting priority srcnat; oifname "wan0" masquerade }
}
`,
  );
  writeFileSync(
    join(dir, files.nft),
    `table ip filter {
  set blocked { type ipv4_addr; elements = { ${list.join(', ')} } }
  chain forward { type filter hook forward priority filter; ip daddr @blocked drop }
}
table ip nat {
  chain post { type nat hook postrouting priority srcnat; oifname "wan0" masquerade }
}
`,
  );
  writeFileSync(join(dir, files.iptables), '*nat\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -o wan0 -j MASQUERADE\nCOMMIT\n*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -m set --match-set blocked dst -j DROP\nCOMMIT\n');
  writeFileSync(join(dir, files.ipsets), ['create blocked hash:ip', ...list.map((a) => `add blocked ${a}`), ''].join('\n'));
  return files;
}
