/**
 * conntrack-tools' text for entries (nfct_snprintf's default format): `conntrack -L` lines
 * ("tcp      6 431999 ESTABLISHED src=… [UNREPLIED] src=… [ASSURED] mark=0 use=1") and
 * `conntrack -E` lines ("[1795384573.396561]\t    [NEW] tcp      6 120 SYN_SENT src=…").
 * Event messages carry no use count and a mark only when set (ctnetlink_conntrack_event); which
 * timeout and state they carry is decided where the event is made (trace/events.ts eventEntry).
 */
import { Status } from '../netfilter/conntrack/conn.js';
import type { ConntrackEventType } from '../netfilter/conntrack/ecache.js';
import type { CtEntryView, TupleView } from '../trace/events.js';
import { formatInetAddr } from '../packet/inet-addr.js';
import { protoName, tupleText } from '../trace/format-common.js';

/** Built by concatenation, not an array joined: a trace makes one for every conntrack event. */
function entryText(e: CtEntryView, markAndUse: 'always' | 'event'): string {
  let text = `${protoName(e.orig.proto).padEnd(8)} ${e.orig.proto}`;
  if (e.timeout !== null) text += ` ${e.timeout}`;
  if (e.tcpState !== null) text += ` ${e.tcpState}`;
  text += ` ${tupleText(e.orig, ' ')}`;
  if ((e.status & Status.SeenReply) === 0) text += ' [UNREPLIED]';
  text += ` ${tupleText(e.reply, ' ')}`;
  if ((e.status & Status.Assured) !== 0) text += ' [ASSURED]';
  if (markAndUse === 'always') text += ` mark=${e.mark} use=1`;
  else if (e.mark !== 0) text += ` mark=${e.mark}`;
  return text;
}

/** One `conntrack -L` line. */
export function conntrackListLine(e: CtEntryView): string {
  return entryText(e, 'always');
}

/** A `conntrack -E` event without its timestamp: "[UPDATE] tcp      6 60 SYN_RECV src=…". */
export function conntrackEventText(type: ConntrackEventType, e: CtEntryView): string {
  return `[${type}] ${entryText(e, 'event')}`;
}

/** One `conntrack -E -o timestamp` line, stamped with a wall-clock time ("[sec.usec]"). */
export function conntrackEventLine(type: ConntrackEventType, at: { sec: number; nsec: number }, e: CtEntryView): string {
  const stamp = `[${at.sec}.${String(Math.floor(at.nsec / 1000)).padStart(6, '0')}]`;
  return `${stamp}\t${' '.repeat(Math.max(0, 9 - type.length - 2))}${conntrackEventText(type, e)}`;
}

/**
 * What `conntrack -L` writes to stderr after the entries (conntrack-tools' conntrack.c:
 * "%s v%s (conntrack-tools): %d flow entries have been shown.").
 */
export function conntrackListFooter(count: number): string {
  return `conntrack v${CONNTRACK_TOOLS_VERSION} (conntrack-tools): ${count} flow entries have been shown.`;
}

/** The conntrack-tools release whose output natsim prints. */
const CONNTRACK_TOOLS_VERSION = '1.4.7';

/** An entry for --json: the view with its addresses as text ("10.0.3.1", "fd00:3::1"), not numbers or handles. */
export function conntrackJsonEntry(e: CtEntryView): object {
  const tuple = (t: TupleView): object => ({ ...t, src: formatInetAddr(t.src), dst: formatInetAddr(t.dst) });
  return { ...e, orig: tuple(e.orig), reply: tuple(e.reply) };
}
