/**
 * Rulesets for case (i): the bench router with a kube-proxy-style iptables-save of about N
 * rules (filter and nat, KUBE-SERVICES listing every Service, KUBE-SVC-* choosing an endpoint
 * with -m statistic, KUBE-SEP-* marking and DNATing), against the same router with 10 rules.
 * The workload's traffic is to public servers, so every new connection walks KUBE-SERVICES to
 * its end, as the kernel's nat table walks it: the worst case for a long chain.
 */
import { writeFileSync } from 'node:fs';

/** Rules one Service costs: its KUBE-SERVICES jump, 3 in KUBE-SVC, 2 in each of 2 KUBE-SEP. */
const RULES_PER_SERVICE = 8;

/** The rules both rulesets share: masquerade out of wan0, as the bench router does. */
const COMMON_NAT = ['-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING', '-A POSTROUTING -o wan0 -j MASQUERADE'];

function kubeNat(services: number): string[] {
  const chains = [':PREROUTING ACCEPT [0:0]', ':INPUT ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]', ':KUBE-MARK-MASQ - [0:0]', ':KUBE-POSTROUTING - [0:0]', ':KUBE-SERVICES - [0:0]'];
  const rules = [
    '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    ...COMMON_NAT,
    '-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000',
    '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
    '-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0',
    '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
  ];
  for (let i = 0; i < services; i++) {
    const vip = `10.96.${i >> 8}.${i & 255}`;
    const svc = `KUBE-SVC-${String(i).padStart(16, '0')}`;
    const eps = [0, 1].map((e) => ({ chain: `KUBE-SEP-${String(i * 2 + e).padStart(16, '0')}`, addr: `10.244.${(i >> 7) & 255}.${((i & 127) << 1) + e}` }));
    chains.push(`:${svc} - [0:0]`, ...eps.map((e) => `:${e.chain} - [0:0]`));
    rules.push(
      `-A KUBE-SERVICES -d ${vip}/32 -p tcp -m comment --comment "ns/svc-${i}:http cluster IP" -m tcp --dport 80 -j ${svc}`,
      `-A ${svc} ! -s 10.244.0.0/16 -d ${vip}/32 -p tcp -m tcp --dport 80 -j KUBE-MARK-MASQ`,
      `-A ${svc} -m statistic --mode random --probability 0.50000000000 -j ${eps[0]!.chain}`,
      `-A ${svc} -j ${eps[1]!.chain}`,
      ...eps.flatMap((e) => [`-A ${e.chain} -s ${e.addr}/32 -j KUBE-MARK-MASQ`, `-A ${e.chain} -p tcp -m tcp -j DNAT --to-destination ${e.addr}:8080`]),
    );
  }
  return ['*nat', ...chains, ...rules, 'COMMIT'];
}

const FILTER = [
  '*filter',
  ':INPUT ACCEPT [0:0]',
  ':FORWARD ACCEPT [0:0]',
  ':OUTPUT ACCEPT [0:0]',
  '-A INPUT -i lo -j ACCEPT',
  '-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT',
  '-A OUTPUT -o lo -j ACCEPT',
  '-A FORWARD -m conntrack --ctstate INVALID -j DROP',
  '-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
  'COMMIT',
];

/** Writes rules-small.txt (10 rules) and rules-kube.txt (about `rules` rules); returns their rule counts. */
export function writeRulesets(dir: string, rules: number): { small: number; kube: number } {
  const small = [...FILTER, '*nat', ':PREROUTING ACCEPT [0:0]', ':INPUT ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]', ':KUBE-POSTROUTING - [0:0]', ...COMMON_NAT, '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN', '-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0', '-A KUBE-POSTROUTING -j MASQUERADE --random-fully', 'COMMIT'];
  const kube = [...FILTER, ...kubeNat(Math.ceil(rules / RULES_PER_SERVICE))];
  writeFileSync(`${dir}/rules-small.txt`, small.join('\n') + '\n');
  writeFileSync(`${dir}/rules-kube.txt`, kube.join('\n') + '\n');
  const count = (lines: string[]): number => lines.filter((l) => l.startsWith('-A ')).length;
  return { small: count(small), kube: count(kube) };
}
