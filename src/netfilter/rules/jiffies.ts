/**
 * The kernel's tick counter on natsim's virtual clock. x_tables' rate matches (xt_limit,
 * xt_hashlimit) count in jiffies; natsim ticks at HZ 250, the CONFIG_HZ of the machine the
 * kernel recordings were made on (and Debian's, Ubuntu's and Fedora's default). Jiffy 0 is the
 * start of the run, when the ruleset is loaded: only differences of jiffies matter to these
 * modules, so the kernel's INITIAL_JIFFIES offset changes nothing.
 */
export const HZ = 250;

const NS_PER_JIFFY = 1e9 / HZ;

/** jiffies at virtual time `ns`. */
export function jiffiesAt(ns: number): number {
  return Math.floor(ns / NS_PER_JIFFY);
}

/** The virtual time at which jiffy `j` begins (the tick a timer of the timer wheel runs on). */
export function jiffyStart(j: number): number {
  return j * NS_PER_JIFFY;
}

/** msecs_to_jiffies for HZ 250 (a divisor of 1000): rounded up. */
export function msecsToJiffies(ms: number): number {
  return Math.ceil((ms * HZ) / 1000);
}
