/**
 * -m hashlimit (xt_hashlimit.c revision 3): a bucket per key of the mode, u64 credits at HZ
 * 250 (user2credits: 137438953 credits per µs of avg, 2^39 per jiffy), --hashlimit-above,
 * masks, one table per name, and the garbage collector freeing expired buckets of a full table.
 */
import { describe, expect, it } from 'vitest';
import { Verdict } from '../../src/netfilter/constants.js';
import { hashlimitCredits } from '../../src/netfilter/rules/xt-hashlimit.js';
import { errorOf } from './helpers.js';
import { accepted, runChain, udp, udp6, xt6Table, xtTable } from './xt-helpers.js';

const upto = (opts: string) => xtTable(`-A INPUT -m hashlimit --hashlimit-upto 1/sec --hashlimit-burst 2 ${opts} --hashlimit-name t -j ACCEPT`, { policy: 'DROP' });
const from = (saddr: string, sport = 1000) => () => udp(saddr, '192.168.1.2', { sport });

describe('-m hashlimit (xt_hashlimit.c hashlimit_mt_common, packet mode)', () => {
  it('computes credits as user2credits does for revision 3', () => {
    expect(hashlimitCredits(1000000n)).toBe(137438953000000n);
    // one jiffy earns 2^39: 250 of them pay for a packet at 1/sec, 249 do not
    expect(250n * 2n ** 39n >= 137438953000000n && 249n * 2n ** 39n < 137438953000000n).toBe(true);
  });

  it('keeps a bucket per source address with --hashlimit-mode srcip', () => {
    const t = upto('--hashlimit-mode srcip');
    expect(accepted(t, [0, 0, 0], from('10.0.0.1'))).toEqual([true, true, false]);
    expect(accepted(t, [0, 0, 0], from('10.0.0.2'))).toEqual([true, true, false]);
    expect(accepted(t, [0.996, 1, 1], from('10.0.0.1'))).toEqual([false, true, false]);
  });

  it('masks the address with --hashlimit-srcmask, and keys on ports with srcport', () => {
    const masked = upto('--hashlimit-mode srcip --hashlimit-srcmask 24');
    expect([...accepted(masked, [0, 0], from('10.0.0.1')), ...accepted(masked, [0], from('10.0.0.2'))]).toEqual([true, true, false]);
    const ports = upto('--hashlimit-mode srcport');
    expect([...accepted(ports, [0, 0, 0], from('10.0.0.1', 1)), ...accepted(ports, [0], from('10.0.0.2', 2))]).toEqual([true, true, false, true]);
  });

  it('puts every packet in one bucket without a mode', () => {
    const t = upto('');
    expect([...accepted(t, [0], from('10.0.0.1')), ...accepted(t, [0, 0], from('10.0.0.9'))]).toEqual([true, true, false]);
  });

  it('matches over the limit with --hashlimit-above (XT_HASHLIMIT_INVERT)', () => {
    const t = xtTable('-A INPUT -m hashlimit --hashlimit-above 1/sec --hashlimit-burst 2 --hashlimit-mode srcip --hashlimit-name t -j DROP');
    expect(accepted(t, [0, 0, 0, 0, 1])).toEqual([true, true, false, false, true]);
  });

  it('shares one table by name, with the first rule\'s configuration (htable_find_get)', () => {
    const t = xtTable(
      ['-A INPUT -p udp --dport 53 -m hashlimit --hashlimit-upto 1/sec --hashlimit-burst 2 --hashlimit-mode srcip --hashlimit-name t -j ACCEPT', '-A INPUT -p udp --dport 54 -m hashlimit --hashlimit-upto 100/sec --hashlimit-burst 100 --hashlimit-mode srcip --hashlimit-name t -j ACCEPT'].join('\n'),
      { policy: 'DROP' },
    );
    const to = (dport: number) => () => udp('10.0.0.1', '192.168.1.2', { dport });
    expect([...accepted(t, [0], to(53)), ...accepted(t, [0, 0], to(54))]).toEqual([true, true, false]);
  });

  it('drops the packet of a new key when the table is full (hotdrop), until the collector frees an expired bucket', () => {
    const t = xtTable('-A INPUT -m hashlimit --hashlimit-upto 1/sec --hashlimit-mode srcip --hashlimit-name t --hashlimit-htable-size 1 --hashlimit-htable-max 1 --hashlimit-htable-expire 1000 -j ACCEPT');
    expect(runChain(t, udp('10.0.0.1')).verdict).toBe(Verdict.Accept);
    const full = runChain(t, udp('10.0.0.2'), { seconds: 0.5 });
    expect(full.verdict).toBe(Verdict.Drop);
    expect(full.skb.drop?.reason).toBe('hashlimit t: max count of 1 reached (rule "-A INPUT -m hashlimit --hashlimit-upto 1/sec --hashlimit-mode srcip --hashlimit-name t --hashlimit-htable-size 1 --hashlimit-htable-max 1 --hashlimit-htable-expire 1000 -j ACCEPT")');
    // 10.0.0.1 expired at jiffy 250, when the collector runs (every 1000 ms)
    expect(runChain(t, udp('10.0.0.2'), { seconds: 1 }).verdict).toBe(Verdict.Accept);
  });

  it('frees an idle bucket after one unit of the rate when no --hashlimit-htable-expire is given (hashlimit_mt_check_v2: udata->mult * 1000)', () => {
    const burst3 = (opts: string) => xtTable(`-A INPUT -m hashlimit --hashlimit-upto ${opts} --hashlimit-burst 3 --hashlimit-mode srcip --hashlimit-name t -j ACCEPT`, { policy: 'DROP' });
    // 1/sec: gone after 1 s idle, so at 2.5 s a new bucket has the whole burst again
    expect(accepted(burst3('1/sec'), [0, 0, 0, 2.5, 2.5, 2.5])).toEqual([true, true, true, true, true, true]);
    // kept 10 s: the old bucket has earned 2.5 packets by then
    expect(accepted(burst3('1/sec --hashlimit-htable-expire 10000'), [0, 0, 0, 2.5, 2.5, 2.5])).toEqual([true, true, true, true, true, false]);
    // 60/min is one a second too, but its buckets live 60 s
    expect(accepted(burst3('60/min'), [0, 0, 0, 2.5, 2.5, 2.5])).toEqual([true, true, true, true, true, false]);
  });

  it('says in the trace which bucket decided', () => {
    const t = upto('--hashlimit-mode srcip,dstport --hashlimit-srcmask 16');
    expect(runChain(t, udp('10.1.2.3')).notes[0]).toMatch(/^HASHLIMIT t key src 10\.1\.0\.0\/16 dport 53: under the limit/);
  });

  it('refuses what the kernel and libxt_hashlimit refuse, and byte rates natsim does not model', () => {
    const save = (opts: string) => `*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m hashlimit ${opts} -j ACCEPT\nCOMMIT\n`;
    expect(errorOf(save('--hashlimit-upto 1/s'))).toBe('r:3:13: -m hashlimit needs --hashlimit-name');
    expect(errorOf(save('--hashlimit-upto 1/s --hashlimit-name t --hashlimit-htable-expire 0'))).toBe('r:3:13: the kernel refuses a --hashlimit-htable-expire or --hashlimit-htable-gcinterval of 0');
    expect(errorOf(save('--hashlimit-upto 1/s --hashlimit-mode srcmac --hashlimit-name t'))).toBe("r:3:44: unknown --hashlimit-mode 'srcmac' (srcip, srcport, dstip, dstport)");
    expect(errorOf(save('--hashlimit-upto 1kb/s --hashlimit-name t'))).toBe("r:3:23: byte-based rates ('1kb/s') are not modelled by natsim yet");
  });

  describe('in ip6tables (hashlimit_init_dst NFPROTO_IPV6, hashlimit_ipv6_mask)', () => {
    const upto6 = (opts: string) => xt6Table(`-A INPUT -m hashlimit --hashlimit-upto 1/sec --hashlimit-burst 2 ${opts} --hashlimit-name t -j ACCEPT`, { policy: 'DROP' });
    const from6 = (saddr: string, sport = 1000) => () => udp6(saddr, 'fd00:2::2', { sport });

    it('keys on the whole IPv6 source by default (128 bits): two hosts of one /64 have two buckets', () => {
      const t = upto6('--hashlimit-mode srcip');
      expect([...accepted(t, [0, 0, 0], from6('fd00:1::1')), ...accepted(t, [0, 0, 0], from6('fd00:1::2'))]).toEqual([true, true, false, true, true, false]);
    });

    it('masks the IPv6 source to --hashlimit-srcmask bits, past the first 32', () => {
      const t = upto6('--hashlimit-mode srcip --hashlimit-srcmask 64');
      expect([...accepted(t, [0, 0], from6('fd00:1::1')), ...accepted(t, [0], from6('fd00:1::ffff:2')), ...accepted(t, [0], from6('fd00:1:0:1::1'))]).toEqual([true, true, false, true]);
      // 33 bits: fd00:0001:8000:: is apart from fd00:0001::
      const t33 = upto6('--hashlimit-mode srcip --hashlimit-srcmask 33');
      expect([...accepted(t33, [0, 0], from6('fd00:1::1')), ...accepted(t33, [0], from6('fd00:1:7fff::1')), ...accepted(t33, [0], from6('fd00:1:8000::1'))]).toEqual([true, true, false, true]);
    });

    it('prints the masked IPv6 key in the trace', () => {
      const t = upto6('--hashlimit-mode srcip,dstip --hashlimit-srcmask 64 --hashlimit-dstmask 0');
      expect(runChain(t, udp6('fd00:1::abcd', 'fd00:2::2')).notes[0]).toMatch(/^HASHLIMIT t key src fd00:1::\/64 dst ::\/0: under the limit/);
    });

    it('takes masks up to 128 in ip6tables, up to 32 in iptables (hashlimit_mt_check_common)', () => {
      expect(() => upto6('--hashlimit-mode srcip --hashlimit-srcmask 128 --hashlimit-dstmask 96')).not.toThrow();
      expect(() => upto6('--hashlimit-mode srcip --hashlimit-srcmask 129')).toThrow("r:5:89: --hashlimit-srcmask needs a whole number from 0 to 128, got '129'");
      expect(errorOf(`*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m hashlimit --hashlimit-upto 1/s --hashlimit-srcmask 33 --hashlimit-name t -j ACCEPT\nCOMMIT\n`)).toBe("r:3:44: --hashlimit-srcmask needs a whole number from 0 to 32, got '33'");
    });
  });
});
