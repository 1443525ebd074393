/** `natsim lint`: every problem of a ruleset at once, with line and column; exit 1 if any. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { natsim, tempDir } from './helpers.js';

describe('natsim lint', () => {
  it('names all three unsupported constructs of an iptables-save file, and a rule the kernel refuses', async () => {
    const file = join(tempDir(), 'rules.txt');
    writeFileSync(
      file,
      ['*nat', ':PREROUTING ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]', '-A PREROUTING -m hashlimit --hashlimit-upto 1/sec -j ACCEPT', '-A PREROUTING -j MASQUERADE', '-A POSTROUTING -j TPROXY', '-A POSTROUTING -p tcp -m tcp --tcp-option 8 -j ACCEPT', 'COMMIT', ''].join('\n'),
    );
    const run = await natsim('lint', file);
    expect(run.stdout.split('\n').filter((l) => l.startsWith(file)).map((l) => l.slice(file.length + 1).split(':').slice(0, 2).join(':'))).toEqual(['4:18', '5:1', '6:19', '7:30']);
    expect(run.stdout).toContain('lint: 4 problem(s)');
    expect(run.code).toBe(1);
  });

  it('goes on after a bad nft rule, line by line', async () => {
    const file = join(tempDir(), 'rules.nft');
    writeFileSync(file, 'table ip t {\n chain c {\n  type filter hook input priority 0;\n  tproxy to :1\n  ip saddr 1.2.3.4 accept\n  tcp dport 99999 drop\n  ct helper \"ftp\" accept\n }\n}\n');
    const run = await natsim('lint', file);
    expect(run.stdout).toBe(`${file}:4:3: tproxy (transparent proxying to a local socket, nft_tproxy) is not modelled\n${file}:6:13: bad port or port range '99999'\n${file}:7:6: ct helper is not modelled (natsim reads ct state|status|direction|mark|l3proto|protocol|expiration|zone)\nlint: 3 problem(s)\n`);
    expect(run.code).toBe(1);
  });

  it('passes session affinity as kube-proxy writes it (nft typeof/timeout sets and update @set, -m recent)', async () => {
    const run = await natsim('lint', 'fixtures/rulesets/kube-proxy-nftables-affinity.txt', 'fixtures/rulesets/kube-proxy-iptables-affinity.txt', 'fixtures/rulesets/nft-dynamic-sets.txt');
    expect(run.stdout).toBe('lint: 3 ruleset(s), no problems\n');
    expect(run.code).toBe(0);
  });

  it('names what the kernel would refuse of sets rules add to, and goes on', async () => {
    const file = join(tempDir(), 'sets.nft');
    writeFileSync(file, 'table ip t {\n set c { type ipv4_addr; flags constant; }\n set s { type ipv4_addr; }\n chain x {\n  update @c { ip saddr }\n  add @s { ip saddr timeout 1s }\n  update @s { ip saddr }\n }\n}\n');
    const run = await natsim('lint', file);
    expect(run.stdout).toBe(`${file}:5:10: set 'c' is constant: rules cannot add to it\n${file}:6:21: set 's' has no timeouts ('flags timeout' or a 'timeout')\nlint: 2 problem(s)\n`);
  });

  it('passes the realistic kube-proxy ruleset', async () => {
    const run = await natsim('lint', 'fixtures/rulesets/kube-proxy-iptables.txt');
    expect(run.stdout).toBe('lint: 1 ruleset(s), no problems\n');
    expect(run.code).toBe(0);
  });
});
