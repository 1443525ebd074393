/**
 * -m time (xt_time.c time_mt, UTC): dates, a daily range (wrapping past midnight when the start
 * is after the stop), weekdays and monthdays, --contiguous. fixtures/kernel/iptables-time
 * (verify.test.ts) is the kernel's run on a capture's own clock.
 */
import { describe, expect, it } from 'vitest';
import { Verdict } from '../../src/netfilter/constants.js';
import { lintRule, runChain, udp, xtTable } from './xt-helpers.js';

/** Seconds since 1970 of a UTC date and time. */
const at = (iso: string) => Date.parse(`${iso}Z`) / 1000;
const dropped = (options: string, iso: string) => runChain(xtTable(`-A INPUT -m time ${options} -j DROP`), udp(), { seconds: at(iso) }).verdict === Verdict.Drop;

describe('-m time', () => {
  it.each([
    // 2026-12-07 is a Monday
    ['--timestart 23:00 --timestop 01:00 --weekdays Mon', '2026-12-07T23:30:00', true],
    ['--timestart 23:00 --timestop 01:00 --weekdays Mon', '2026-12-08T00:30:00', false],
    ['--timestart 23:00 --timestop 01:00 --weekdays Mon --contiguous', '2026-12-08T00:30:00', true],
    ['--timestart 23:00 --timestop 01:00 --weekdays Mon --contiguous', '2026-12-08T23:30:00', false],
    ['--timestart 23:00 --timestop 01:00', '2026-12-08T12:00:00', false],
    ['--timestart 09:00 --timestop 17:00:00', '2026-12-08T17:00:00', true],
    ['--timestart 09:00 --timestop 17:00:00', '2026-12-08T17:00:01', false],
    ['! --weekdays Sat,Sun', '2026-12-03T10:00:00', true],
    ['! --weekdays Sat,Sun', '2026-12-05T10:00:00', false],
    ['--monthdays 31', '2026-12-31T10:00:00', true],
    ['--monthdays 31', '2026-12-30T10:00:00', false],
    ['--datestart 2026-12-01 --datestop 2026-12-02T12', '2026-12-02T11:59:59', true],
    ['--datestart 2026-12-01 --datestop 2026-12-02T12', '2026-12-02T12:00:01', false],
  ] as const)('%s at %s: dropped %s', (options, iso, want) => {
    expect(dropped(options, iso)).toBe(want);
  });

  it.each([
    ['--timestart 09:00 --kerneltz', /--kerneltz is not modelled/],
    ['--timestart 09:00 --timestop 17:00 --contiguous', /--contiguous is only for a time range that wraps/],
    ['--timestart 25:00', /takes hh:mm\[:ss\]/],
    ['--weekdays Mon,Funday', /'Funday' is not a weekday/],
    ['! --timestart 09:00', /cannot invert --timestart/],
  ])('refuses %s', (options, reason) => {
    expect(lintRule(`-m time ${options} -j DROP`)).toEqual([expect.stringMatching(reason)]);
  });
});
