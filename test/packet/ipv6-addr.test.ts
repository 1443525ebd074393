/**
 * IPv6 addresses: inet_pton's text forms, inet_ntop's output as conntrack and ip print it (the
 * kernel recordings' conntrack-L-ipv6.txt), the kernel's %pI6, prefixes, and the handles
 * natsim carries them as (one address, one handle; IPv4 addresses never collide with them).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatIpv6, formatIpv6Full, ipv6Bytes, ipv6Handle, ipv6PrefixEqual, isIpv6, parseIpv6, parseIpv6Prefix } from '../../src/packet/ipv6-addr.js';
import { hashTuple, Tuple } from '../../src/netfilter/conntrack/tuple.js';
import { IPPROTO } from '../../src/netfilter/constants.js';

const v6 = (s: string): number => {
  const a = parseIpv6(s);
  if (a === null) throw new Error(`bad test address ${s}`);
  return a;
};

describe('IPv6 text forms', () => {
  it.each([
    ['fd00:3::1', 'fd00:3::1'],
    ['fd00:0003:0000:0000:0000:0000:0000:0001', 'fd00:3::1'],
    ['::', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['ff02::1:ff00:254', 'ff02::1:ff00:254'],
    ['fe80::f45b:d4ff:fe9a:fe72', 'fe80::f45b:d4ff:fe9a:fe72'],
    // one zero group is not compressed; the first of two equal runs is
    ['1:0:2:3:4:5:6:7', '1:0:2:3:4:5:6:7'],
    ['1:0:0:2:0:0:3:4', '1::2:0:0:3:4'],
    ['1:0:0:2:0:0:0:4', '1:0:0:2::4'],
    // IPv4-mapped and -compatible addresses end in a dotted quad, as glibc's inet_ntop writes them
    ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
    ['::ffff:c000:201', '::ffff:192.0.2.1'],
    ['::1.2.3.4', '::1.2.3.4'],
    ['FD00:206::250', 'fd00:206::250'],
  ])('%s prints as %s', (text, printed) => {
    expect(formatIpv6(v6(text))).toBe(printed);
  });

  it.each(['', ':', ':::', '1:2:3:4:5:6:7:8:9', '1::2::3', '12345::', 'g::1', '::1.2.3', '::256.1.1.1', '1.2.3.4::', '1:2:3:4:5:6:7::8:9', '::1:2:3:4:5:6:7:8'])('%s is refused', (text) => {
    expect(parseIpv6(text)).toBeNull();
  });

  it('the kernel LOG form (%pI6) writes every group in full', () => {
    expect(formatIpv6Full(v6('fd00:3::1'))).toBe('fd00:0003:0000:0000:0000:0000:0000:0001');
  });

  it('every address survives printing and parsing, as the same handle', () => {
    const bytes = fc.uint8Array({ minLength: 16, maxLength: 16 });
    fc.assert(
      fc.property(bytes, (b) => {
        const h = ipv6Handle(b);
        expect(isIpv6(h)).toBe(true);
        expect(parseIpv6(formatIpv6(h))).toBe(h);
        expect(parseIpv6(formatIpv6Full(h))).toBe(h);
        expect([...ipv6Bytes(h)]).toEqual([...b]);
      }),
      { numRuns: 2000 },
    );
  });

  it('addresses whose hash folds agree still get handles of their own', () => {
    // swapping the first two words keeps the fold (w0 ^ w1 ^ ...): the interning table must compare the words
    const words = fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }));
    fc.assert(
      fc.property(words, ([a, b, c]) => {
        fc.pre(a !== b);
        const bytesOf = (w: readonly number[]): Uint8Array => new Uint8Array(w.flatMap((x) => [x >>> 24, (x >>> 16) & 255, (x >>> 8) & 255, x & 255]));
        const one = bytesOf([a, b, c, 1]);
        const other = bytesOf([b, a, c, 1]);
        const h1 = ipv6Handle(one);
        const h2 = ipv6Handle(other);
        expect(h1).not.toBe(h2);
        expect([...ipv6Bytes(h1)]).toEqual([...one]);
        expect([...ipv6Bytes(h2)]).toEqual([...other]);
        expect(ipv6Handle(other)).toBe(h2);
      }),
      { numRuns: 2000 },
    );
  });

  it('arbitrary text never throws: an address or null', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9a-fA-F:.]{0,48}$/), (s) => {
        const h = parseIpv6(s);
        if (h !== null) expect(parseIpv6(formatIpv6(h))).toBe(h);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('IPv6 prefixes', () => {
  it('compares the first len bits', () => {
    expect(ipv6PrefixEqual(v6('fd00:3::1'), v6('fd00:3::254'), 64)).toBe(true);
    expect(ipv6PrefixEqual(v6('fd00:3::1'), v6('fd00:206::1'), 64)).toBe(false);
    expect(ipv6PrefixEqual(v6('fd00:3::1'), v6('fd00:206::1'), 16)).toBe(true);
    expect(ipv6PrefixEqual(v6('fd00:3::1'), v6('fd00:3::2'), 127)).toBe(false);
    expect(ipv6PrefixEqual(v6('fd00:3::1'), v6('::'), 0)).toBe(true);
  });

  it('parses addr/len and refuses bad lengths', () => {
    expect(parseIpv6Prefix('fd00:3::/64')).toEqual({ addr: v6('fd00:3::'), len: 64 });
    expect(parseIpv6Prefix('fd00:3::1')).toEqual({ addr: v6('fd00:3::1'), len: 128 });
    expect(parseIpv6Prefix('fd00::/129')).toBeNull();
    expect(parseIpv6Prefix('fd00::/x')).toBeNull();
  });
});

describe('tuples of both families', () => {
  it('an IPv6 tuple keeps its addresses and family', () => {
    const t = new Tuple(v6('fd00:3::1'), 43000, v6('fd00:206::1'), 80, IPPROTO.TCP);
    expect(t.isIpv6).toBe(true);
    expect(formatIpv6(t.src)).toBe('fd00:3::1');
    expect(formatIpv6(t.dst)).toBe('fd00:206::1');
    expect(t.proto).toBe(IPPROTO.TCP);
    expect(t.clone().equals(t)).toBe(true);
  });

  it('an IPv4 tuple never equals the IPv6 tuple whose handles have the same low bits', () => {
    const t6 = new Tuple(v6('fd00:3::1'), 1, v6('fd00:206::1'), 2, IPPROTO.UDP);
    const t4 = new Tuple(t6.src % 2 ** 32, 1, t6.dst % 2 ** 32, 2, IPPROTO.UDP);
    expect(t4.isIpv6).toBe(false);
    expect(t4.equals(t6)).toBe(false);
    expect(t6.equals(t4)).toBe(false);
  });

  it('an IPv6 tuple hashes by its addresses, not by when they were first seen', () => {
    const a = new Tuple(v6('2001:db8::77'), 1, v6('2001:db8::78'), 2, IPPROTO.UDP);
    const again = new Tuple(v6('2001:db8::77'), 1, v6('2001:db8::78'), 2, IPPROTO.UDP);
    expect(hashTuple(5, a)).toBe(hashTuple(5, again));
    expect(hashTuple(5, a)).not.toBe(hashTuple(5, new Tuple(v6('2001:db8::79'), 1, v6('2001:db8::78'), 2, IPPROTO.UDP)));
  });
});
