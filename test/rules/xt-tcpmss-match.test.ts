/**
 * -m tcpmss (xt_tcpmss.c tcpmss_mt): the MSS option's value in range; no MSS option matches only
 * inverted; a data offset past the packet's end drops it (hotdrop). fixtures/kernel/iptables-tcpmss-match
 * (verify.test.ts) is the kernel's answer for a SYN without options and one with MSS 1460.
 */
import { describe, expect, it } from 'vitest';
import { Verdict } from '../../src/netfilter/constants.js';
import { buildTcp } from '../../src/packet/build.js';
import { Ipv4Packet } from '../../src/packet/ipv4.js';
import { ip, lintRule, runChain, xtTable } from './xt-helpers.js';

const syn = (mss: number | null) =>
  buildTcp({ saddr: ip('10.0.0.1'), daddr: ip('10.0.0.2'), sport: 1000, dport: 80, seq: 1, ack: 0, flags: 0x02, window: 64240, ipId: 1, ttl: 64, payloadLength: 0, ...(mss === null ? {} : { syn: { mss, wscale: 7 } }) });

const verdict = (option: string, pkt: Ipv4Packet) => runChain(xtTable(`-A INPUT -p tcp -m tcpmss ${option} -j DROP`), pkt);

describe('-m tcpmss', () => {
  it.each([
    ['--mss 1460', 1460, Verdict.Drop],
    ['--mss 536:1400', 1460, Verdict.Accept],
    ['! --mss 536:1400', 1460, Verdict.Drop],
    ['--mss 0:65535', null, Verdict.Accept],
    ['! --mss 0:65535', null, Verdict.Drop],
    // XTTYPE_UINT16RC's open ends: iptables-save printed these back as 1460:65535 and 0:1400
    ['--mss 1460:', 1460, Verdict.Drop],
    ['--mss :1400', 1460, Verdict.Accept],
  ] as const)('%s on a SYN with MSS %s', (option, mss, want) => {
    expect(verdict(option, syn(mss)).verdict).toBe(want);
  });

  it('drops a segment whose options run past its end (hotdrop), inverted or not', () => {
    const d = Uint8Array.from(syn(1460).data);
    d[32] = 0xf0; // data offset 15 words: 60 bytes, more than the packet holds
    const cut = Ipv4Packet.adopt(d) as Ipv4Packet;
    const run = verdict('! --mss 1', cut);
    expect([run.verdict, run.skb.drop?.reason]).toEqual([Verdict.Drop, expect.stringMatching(/TCP options are cut short \(tcpmss_mt: hotdrop\)/)]);
  });

  it('needs -p tcp', () => {
    expect(lintRule('-m tcpmss --mss 1460 -j DROP')).toEqual([expect.stringMatching(/only valid with -p tcp/)]);
  });
});
