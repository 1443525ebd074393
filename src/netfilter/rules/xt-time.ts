/**
 * `-m time [--datestart D] [--datestop D] [--timestart T] [--timestop T] [--weekdays LIST]
 * [--monthdays LIST] [--contiguous]` (net/netfilter/xt_time.c, time_mt): the wall-clock time the
 * rule is evaluated at (ktime_get_real_ns, UTC — the capture's clock in a replay) within a date
 * range, a daily time range (one that wraps past midnight when the start is after the stop),
 * and the weekdays and days of the month. `--contiguous` counts the after-midnight part of a
 * wrapping range as the day before for the weekday and monthday tests. `--kerneltz` (the
 * kernel's sys_tz, which no snapshot records) is refused.
 */
import type { RuleContext } from './context.js';
import type { OptionReader } from './iptables-modules.js';
import type { Match, XtMatch } from './model.js';
import { noInvert, type XtCheck, type XtMatchOptions } from './xt-options.js';

const SECONDS_PER_DAY = 86400;
/** XT_TIME_MAX_DAYTIME: 23:59:59. */
const MAX_DAYTIME = SECONDS_PER_DAY - 1;
/** libxt_time's weekday names, Monday 1 … Sunday 7 (its bits are 1 << day). */
const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const ALL_WEEKDAYS = 0xfe;
/** The options libxt_time takes no '!' before (only the day lists may be inverted). */
const NOT_INVERTIBLE = new Set(['--datestart', '--datestop', '--timestart', '--timestop', '--contiguous', '--utc']);
const ALL_MONTHDAYS = 0xfffffffe;

interface TimeInfo {
  readonly dateStart: number;
  readonly dateStop: number;
  readonly daytimeStart: number;
  readonly daytimeStop: number;
  readonly weekdays: number;
  readonly monthdays: number;
  readonly contiguous: boolean;
}

class XtTime implements XtMatch {
  readonly name = 'time';
  readonly stateful = false;
  readonly needsConntrack = false;

  constructor(private readonly info: TimeInfo) {}

  /** time_mt */
  match(ctx: RuleContext): boolean {
    const t = this.info;
    let stamp = Math.floor(ctx.wallNs() / 1e9);
    if (stamp < t.dateStart || stamp > t.dateStop) return false;
    const daytime = ((stamp % SECONDS_PER_DAY) + SECONDS_PER_DAY) % SECONDS_PER_DAY;
    if (t.daytimeStart < t.daytimeStop) {
      if (daytime < t.daytimeStart || daytime > t.daytimeStop) return false;
    } else {
      if (daytime < t.daytimeStart && daytime > t.daytimeStop) return false;
      if (t.contiguous && daytime <= t.daytimeStop) stamp -= SECONDS_PER_DAY;
    }
    const date = new Date(stamp * 1000);
    // localtime_2: Monday 1 … Sunday 7
    const weekday = ((date.getUTCDay() + 6) % 7) + 1;
    if ((t.weekdays & (1 << weekday)) === 0) return false;
    return t.monthdays === ALL_MONTHDAYS || (t.monthdays & (1 << date.getUTCDate())) !== 0;
  }
}

export class TimeOptions implements XtMatchOptions {
  private dateStart = 0;
  /** libxt_time's default: INT_MAX, which iptables-save writes as --datestop 2038-01-19T03:14:07. */
  private dateStop = 2 ** 31 - 1;
  private daytimeStart = 0;
  private daytimeStop = MAX_DAYTIME;
  private weekdays = ALL_WEEKDAYS;
  private monthdays = ALL_MONTHDAYS;
  private contiguous = false;

  read(r: OptionReader): boolean {
    if (NOT_INVERTIBLE.has(r.option)) noInvert(r, '-m time');
    switch (r.option) {
      case '--datestart':
        this.dateStart = parseDate(r);
        return true;
      case '--datestop':
        this.dateStop = parseDate(r);
        return true;
      case '--timestart':
        this.daytimeStart = parseDaytime(r);
        return true;
      case '--timestop':
        this.daytimeStop = parseDaytime(r);
        return true;
      case '--weekdays':
        this.weekdays = days(r, (w) => WEEKDAYS.findIndex((d) => d.toLowerCase() === w.toLowerCase()) + 1 || (/^[1-7]$/.test(w) ? Number(w) : 0), 'a weekday (Mon … Sun, or 1 … 7)');
        return true;
      case '--monthdays':
        this.monthdays = days(r, (w) => (/^\d{1,2}$/.test(w) && Number(w) >= 1 && Number(w) <= 31 ? Number(w) : 0), 'a day of the month (1 … 31)');
        return true;
      case '--contiguous':
        this.contiguous = true;
        return true;
      case '--kerneltz':
      case '--localtz':
        return r.fail(`${r.option} is not modelled (the kernel's sys_tz, set by settimeofday, is in no snapshot): natsim takes UTC, libxt_time's default`);
      case '--utc':
        return true;
      default:
        return false;
    }
  }

  build(check: XtCheck): Match {
    // time_mt_check
    if (this.daytimeStart > MAX_DAYTIME || this.daytimeStop > MAX_DAYTIME) check.fail('-m time: a time of day past 23:59:59');
    if (this.contiguous && this.daytimeStart < this.daytimeStop) check.fail('-m time: --contiguous is only for a time range that wraps past midnight');
    return { kind: 'xt', module: new XtTime({ dateStart: this.dateStart, dateStop: this.dateStop, daytimeStart: this.daytimeStart, daytimeStop: this.daytimeStop, weekdays: this.weekdays, monthdays: this.monthdays, contiguous: this.contiguous }) };
  }
}

/** libxt_time's time_parse_minutes: hh:mm[:ss], in seconds of the day. */
function parseDaytime(r: OptionReader): number {
  const text = r.value();
  const m = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(text);
  if (!m || Number(m[1]) > 23 || Number(m[2]) > 59 || Number(m[3] ?? 0) > 59) r.fail(`${r.option} takes hh:mm[:ss], not '${text}'`);
  return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3] ?? 0);
}

/** libxt_time's time_parse_date: YYYY[-MM[-DD[Thh[:mm[:ss]]]]], UTC, in seconds since the epoch. */
function parseDate(r: OptionReader): number {
  const text = r.value();
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2}))?)?)?)?)?$/.exec(text);
  if (!m) return r.fail(`${r.option} takes YYYY[-MM[-DD[Thh[:mm[:ss]]]]], not '${text}'`);
  // a missing month or day is the first, a missing time of day 0
  const part = (i: number, absent: number) => (m[i] === undefined ? absent : Number(m[i]));
  const seconds = Date.UTC(part(1, 0), part(2, 1) - 1, part(3, 1), part(4, 0), part(5, 0), part(6, 0)) / 1000;
  if (seconds < 0 || seconds > 2 ** 32 - 1) r.fail(`${r.option}: '${text}' is outside 1970 … 2106`);
  return seconds;
}

/** A comma-separated list of days as bits (1 << day), `!` inverting it. */
function days(r: OptionReader, day: (word: string) => number, what: string): number {
  let bits = 0;
  for (const word of r.value().split(',')) {
    const d = day(word);
    if (d === 0) r.fail(`${r.option}: '${word}' is not ${what}`);
    bits |= 1 << d;
  }
  const all = r.option === '--weekdays' ? ALL_WEEKDAYS : ALL_MONTHDAYS;
  return (r.negate ? ~bits & all : bits) >>> 0;
}
