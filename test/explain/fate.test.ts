/** diff's fate signatures (explain/fate.ts): equal exactly when the fates are, and turned back into the same fate. */
import { describe, expect, it } from 'vitest';
import { FateRecord, fateOfSignature, fateSignature, flowOfId, tupleKey } from '../../src/explain/fate.js';
import { IPPROTO } from '../../src/netfilter/constants.js';
import { Tuple } from '../../src/netfilter/conntrack/tuple.js';
import { parseIpv4 } from '../../src/packet/ipv4-addr.js';

const tcp = (src: string, sport: number, dst: string, dport: number): Tuple => new Tuple(parseIpv4(src)!, sport, parseIpv4(dst)!, dport, IPPROTO.TCP);

describe('fate signatures', () => {
  it('a record turns into its fate, `where` kept whole (hook op names hold spaces)', () => {
    const r = new FateRecord('dropped', 'FORWARD ip filter FORWARD', tcp('192.168.206.250', 50004, '192.168.206.1', 53), 3);
    r.reason = 'rule';
    expect(fateOfSignature(fateSignature(r))).toEqual({
      fate: 'dropped',
      where: 'FORWARD ip filter FORWARD',
      reason: 'rule',
      translated: { proto: 'tcp', src: '192.168.206.250', sport: 50004, dst: '192.168.206.1', dport: 53 },
      dropped: 3,
    });
    expect(fateOfSignature(fateSignature(new FateRecord('forwarded', 'POSTROUTING', null, 0)))).toEqual({ fate: 'forwarded', where: 'POSTROUTING', reason: null, translated: null, dropped: 0 });
  });

  it('signatures differ when any part of the fate does', () => {
    const t = tcp('10.0.3.1', 41000, '192.168.206.1', 80);
    const base = fateSignature(new FateRecord('forwarded', 'POSTROUTING', t, 0));
    expect(fateSignature(new FateRecord('forwarded', 'POSTROUTING', t.clone(), 0))).toBe(base);
    expect(fateSignature(new FateRecord('local', 'POSTROUTING', t, 0))).not.toBe(base);
    expect(fateSignature(new FateRecord('forwarded', 'INPUT', t, 0))).not.toBe(base);
    expect(fateSignature(new FateRecord('forwarded', 'POSTROUTING', tcp('10.0.3.1', 41001, '192.168.206.1', 80), 0))).not.toBe(base);
    expect(fateSignature(new FateRecord('forwarded', 'POSTROUTING', t, 1))).not.toBe(base);
    const failed = new FateRecord('forwarded', 'POSTROUTING', t, 0);
    failed.reason = 'timeout';
    expect(fateSignature(failed)).not.toBe(base);
  });

  it('a flow id names its original tuple and life', () => {
    const t = tcp('172.17.0.3', 40002, '192.168.206.250', 8080);
    expect(flowOfId(`${tupleKey(t)}#2`)).toEqual({ flow: { proto: 'tcp', src: '172.17.0.3', sport: 40002, dst: '192.168.206.250', dport: 8080 }, life: 2 });
  });
});
