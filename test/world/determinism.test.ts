/**
 * Same scenario and seed → byte-identical output; another seed → other random choices (and
 * still the same figures where the kernel's algorithm leaves nothing to chance).
 */
import { describe, expect, it } from 'vitest';
import { natsim } from '../cli/helpers.js';

describe('determinism', () => {
  it.each(['fixtures/seeds/kube-proxy-nodeport.yaml', 'fixtures/seeds/masquerade-multi-ip.yaml'])('%s: two runs, one output', async (file) => {
    const a = await natsim('trace', '--json', file);
    const b = await natsim('trace', '--json', file);
    expect(a.code).toBe(0);
    expect(a.stdout.length).toBeGreaterThan(1000);
    expect(b.stdout).toBe(a.stdout);
  });

  it('another seed draws other ports for --to-ports but keeps the addresses', async () => {
    const ports = async (seed: string) => [...(await natsim('trace', '--style', 'masq', '--seed', seed, 'fixtures/seeds/masquerade-multi-ip.yaml')).stdout.matchAll(/dst-ipv4:(10\.0\.2\.15|1\.2\.3\.56), dst-port:(\d+)/g)].map((m) => `${m[1]}:${m[2]}`);
    const one = await ports('1');
    const two = await ports('2');
    expect(one.map((p) => p.split(':')[0])).toEqual(two.map((p) => p.split(':')[0]));
    expect(one).not.toEqual(two);
  });
});
