/**
 * `-j NFLOG [--nflog-group N] [--nflog-prefix P] [--nflog-size N | --nflog-range N]
 * [--nflog-threshold N]` (net/netfilter/xt_NFLOG.c, nflog_tg): hands the packet to
 * nfnetlink_log for the userspace program bound to the group (ulogd, tcpdump -i nflog:N).
 * natsim runs no such program, so nfulnl_log_packet finds no instance for the group and sends
 * nothing; the packet goes on (XT_CONTINUE), and the trace says so.
 */
import type { RuleContext } from './context.js';
import type { OptionReader } from './iptables-modules.js';
import type { Effect, Rule, XtTarget } from './model.js';
import { noInvert, wholeOption, type XtTargetOptions } from './xt-options.js';

/** sizeof(xt_nflog_info.prefix), the terminating NUL included. */
const PREFIX_SIZE = 64;

class XtNflog implements XtTarget {
  readonly name = 'NFLOG';
  readonly needsConntrack = false;

  constructor(
    private readonly group: number,
    private readonly prefix: string,
  ) {}

  /** nflog_tg → nfulnl_log_packet: instance_lookup_get(group) is NULL, nothing is queued. */
  target(ctx: RuleContext, rule: Rule): boolean {
    ctx.state.notes?.push(`NFLOG group ${this.group}${this.prefix === '' ? '' : ` prefix "${this.prefix}"`}: no nfnetlink_log listener bound to the group, nothing sent; the packet goes on (rule "${rule.text}")`);
    return true;
  }
}

/** NFLOG to a group, as -j NFLOG and nft's `log group N` (nft_log_eval with NF_LOG_TYPE_ULOG) both do it. */
export function nflogEffect(group: number, prefix: string): Effect {
  return { kind: 'xt', target: new XtNflog(group, prefix) };
}

export class NflogOptions implements XtTargetOptions {
  private group = 0;
  private prefix = '';

  read(r: OptionReader): boolean {
    switch (r.option) {
      case '--nflog-group':
        noInvert(r, 'NFLOG');
        this.group = wholeOption(r, 0, 65535);
        return true;
      case '--nflog-prefix': {
        noInvert(r, 'NFLOG');
        const prefix = r.value();
        if (prefix.length >= PREFIX_SIZE) r.fail(`--nflog-prefix takes at most ${PREFIX_SIZE - 1} characters`);
        this.prefix = prefix;
        return true;
      }
      // how much of the packet and how many packets per message: only a listener would see them
      case '--nflog-size':
      case '--nflog-range':
        noInvert(r, 'NFLOG');
        wholeOption(r, 0, 0xffffffff);
        return true;
      case '--nflog-threshold':
        noInvert(r, 'NFLOG');
        wholeOption(r, 0, 65535);
        return true;
      default:
        return false;
    }
  }

  build(): Effect {
    return nflogEffect(this.group, this.prefix);
  }
}
