/**
 * The LOG target's options as iptables-save writes them (libxt_LOG): --log-level (a number, as
 * iptables-save prints it, or a syslog name), --log-prefix (at most 29 characters, the kernel's
 * struct xt_log_info holding 30 bytes) and the flags --log-tcp-sequence, --log-tcp-options,
 * --log-ip-options, --log-uid and --log-macdecode.
 */
import { NfLogFlag, type LogLevel } from '../log/nf-log.js';
import type { OptionReader } from './iptables-modules.js';
import type { Effect } from './model.js';

type LogEffect = Extract<Effect, { kind: 'log' }>;

/** libxt_LOG's level names (error and panic deprecated, still read). */
const LEVEL_NAME: Readonly<Record<string, LogLevel>> = { emerg: 0, panic: 0, alert: 1, crit: 2, error: 3, warning: 4, notice: 5, info: 6, debug: 7 };

const FLAG_OPTION: Readonly<Record<string, number>> = {
  '--log-tcp-sequence': NfLogFlag.TcpSeq,
  '--log-tcp-options': NfLogFlag.TcpOpt,
  '--log-ip-options': NfLogFlag.IpOpt,
  '--log-uid': NfLogFlag.Uid,
  '--log-macdecode': NfLogFlag.MacDecode,
};

/** sizeof(xt_log_info.prefix) - 1 */
const MAX_PREFIX = 29;

export function logOption(action: LogEffect, r: OptionReader): LogEffect {
  const flag = FLAG_OPTION[r.option];
  if (flag !== undefined) return { ...action, info: { ...action.info, flags: action.info.flags | flag } };
  switch (r.option) {
    case '--log-level':
      return { ...action, info: { ...action.info, level: logLevel(r.value(), r) } };
    case '--log-prefix': {
      const prefix = r.value();
      if (prefix.length > MAX_PREFIX) r.fail(`--log-prefix takes at most ${MAX_PREFIX} characters, '${prefix}' has ${prefix.length}`);
      if (prefix.includes('\n')) r.fail('--log-prefix cannot hold a newline');
      return { ...action, prefix };
    }
    default:
      return r.fail(`option ${r.option} does not belong to LOG`);
  }
}

function logLevel(text: string, r: OptionReader): LogLevel {
  if (/^[0-7]$/.test(text)) return Number(text) as LogLevel;
  return LEVEL_NAME[text] ?? r.fail(`unknown --log-level '${text}' (0-7 or ${Object.keys(LEVEL_NAME).join(', ')})`);
}
