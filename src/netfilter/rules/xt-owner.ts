/**
 * `-m owner [!] --uid-owner U[-U] | [!] --gid-owner G[-G]` (net/netfilter/xt_owner.c,
 * owner_mt; OUTPUT and POSTROUTING only): the owner of the local socket that sent the packet,
 * by the fsuid / fsgid of its file. natsim's applications run as root (uid 0, gid 0); a packet
 * with no application socket (forwarded, or the kernel's own RST or ICMP error) matches only an
 * inverted condition, as owner_mt has it both for no socket and for a socket without a file.
 * --socket-exists is refused: it tells those two apart, which natsim does not; so is
 * --suppl-groups (root's supplementary groups are the machine's).
 */
import { Hook } from '../constants.js';
import type { RuleContext } from './context.js';
import type { OptionReader } from './iptables-modules.js';
import type { Match, XtMatch } from './model.js';
import type { XtCheck, XtMatchOptions } from './xt-options.js';

/** What natsim's applications run as. */
const APP_UID = 0;
const APP_GID = 0;

interface IdRange {
  readonly min: number;
  readonly max: number;
  readonly invert: boolean;
}

class XtOwner implements XtMatch {
  readonly name = 'owner';
  readonly stateful = false;
  readonly needsConntrack = false;
  readonly hooks = [Hook.LocalOut, Hook.PostRouting];

  constructor(
    private readonly uid: IdRange | null,
    private readonly gid: IdRange | null,
  ) {}

  /** owner_mt: without a socket file every condition is false, so only inverted ones hold. */
  match(ctx: RuleContext): boolean {
    if (!ctx.skb.appSocket) return (this.uid === null || this.uid.invert) && (this.gid === null || this.gid.invert);
    return holds(this.uid, APP_UID) && holds(this.gid, APP_GID);
  }
}

function holds(range: IdRange | null, id: number): boolean {
  return range === null || (id >= range.min && id <= range.max) !== range.invert;
}

/** A number, a range N-M, or a name natsim knows (only root). */
function parseIds(r: OptionReader, what: string): IdRange {
  const text = r.value();
  if (text === 'root') return { min: 0, max: 0, invert: r.negate };
  const m = /^(\d{1,10})(?:-(\d{1,10}))?$/.exec(text);
  const min = Number(m?.[1]);
  const max = m?.[2] === undefined ? min : Number(m[2]);
  if (!m || min > max || max > 0xfffffffe) return r.fail(`--${what}-owner needs a number, a range N-M or root (natsim's applications run as root; other names are not known), got '${text}'`);
  return { min, max, invert: r.negate };
}

export class OwnerOptions implements XtMatchOptions {
  private uid: IdRange | null = null;
  private gid: IdRange | null = null;

  read(r: OptionReader): boolean {
    switch (r.option) {
      case '--uid-owner':
        this.uid = parseIds(r, 'uid');
        return true;
      case '--gid-owner':
        this.gid = parseIds(r, 'gid');
        return true;
      case '--socket-exists':
        return r.fail('-m owner --socket-exists is not modelled: natsim does not tell a kernel control socket (RST, ICMP errors) from no socket');
      case '--suppl-groups':
        return r.fail('-m owner --suppl-groups is not modelled: it depends on the machine\'s groups for the user');
      default:
        return false;
    }
  }

  build(check: XtCheck): Match {
    if (this.uid === null && this.gid === null) check.fail('-m owner needs --uid-owner or --gid-owner');
    return { kind: 'xt', module: new XtOwner(this.uid, this.gid) };
  }
}
