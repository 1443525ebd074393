/**
 * nft's log statement as `nft list ruleset` prints it and `nft -f` reads it:
 * `log [prefix "…"] [level L] [flags tcp sequence,options | flags ip options | flags skuid |
 * flags ether | flags all]…` (nft_log: level warn when none is given). `log group N` goes to
 * nfnetlink_log as NFLOG does (no listener: nothing is sent, the packet goes on); `level audit`
 * writes audit records, which natsim does not model, and is refused.
 */
import { LOG_LEVEL_WARNING, NfLogFlag, type LogLevel, type NfLogInfo } from '../log/nf-log.js';
import type { Effect } from './model.js';
import { nflogEffect } from './xt-nflog.js';
import { describe, type NftCursor } from './nft-tokens.js';

/** nft's level names (syslog's, with warn for warning). */
const NFT_LOG_LEVEL: Readonly<Record<string, LogLevel>> = { emerg: 0, alert: 1, crit: 2, err: 3, warn: 4, notice: 5, info: 6, debug: 7 };

/** NF_LOG_MASK: what `flags all` sets. */
const NF_LOG_ALL = NfLogFlag.TcpSeq | NfLogFlag.TcpOpt | NfLogFlag.IpOpt | NfLogFlag.Uid | NfLogFlag.MacDecode;

/** NFT_LOG_PREFIX_MAXLEN - 1 */
const MAX_PREFIX = 127;

/** After `log`: its options, up to the next statement. */
export function readLogStatement(cur: NftCursor): Effect {
  let prefix = '';
  let group: number | null = null;
  let info: NfLogInfo = { level: LOG_LEVEL_WARNING, flags: 0 };
  for (;;) {
    const key = cur.peek();
    if (key.kind !== 'word') break;
    if (key.text === 'prefix') {
      cur.next();
      const tok = cur.next();
      if (tok.kind !== 'string' && tok.kind !== 'word') cur.fail(tok, 'log prefix needs a quoted string');
      if (tok.text.length > MAX_PREFIX) cur.fail(tok, `log prefix takes at most ${MAX_PREFIX} characters`);
      prefix = tok.text;
    } else if (key.text === 'level') {
      cur.next();
      info = { ...info, level: readLevel(cur) };
    } else if (key.text === 'flags') {
      cur.next();
      info = { ...info, flags: info.flags | readFlags(cur) };
    } else if (key.text === 'group' || key.text === 'snaplen' || key.text === 'queue-threshold') {
      // nfnetlink_log's options: what a listener would get (nft_log_eval with NF_LOG_TYPE_ULOG)
      cur.next();
      const n = cur.next();
      if (!/^\d+$/.test(n.text) || Number(n.text) > (key.text === 'group' ? 65535 : 0xffffffff)) cur.fail(n, `bad log ${key.text} '${n.text}'`);
      if (key.text === 'group') group = Number(n.text);
    } else {
      break;
    }
  }
  return group === null ? { kind: 'log', prefix, info } : nflogEffect(group, prefix);
}

function readLevel(cur: NftCursor): LogLevel {
  const tok = cur.next();
  if (tok.text === 'audit') cur.fail(tok, 'log level audit writes audit records, which natsim does not model');
  return NFT_LOG_LEVEL[tok.text] ?? cur.fail(tok, `unknown log level ${describe(tok)} (${Object.keys(NFT_LOG_LEVEL).join(', ')})`);
}

/** One `flags` clause: `tcp sequence[,options]`, `ip options`, `skuid`, `ether` or `all`. */
function readFlags(cur: NftCursor): number {
  const tok = cur.next();
  switch (tok.text) {
    case 'tcp': {
      let flags = 0;
      for (;;) {
        const what = cur.next();
        if (what.text === 'sequence') flags |= NfLogFlag.TcpSeq;
        else if (what.text === 'options') flags |= NfLogFlag.TcpOpt;
        else cur.fail(what, `expected 'sequence' or 'options' after 'flags tcp', found ${describe(what)}`);
        if (!cur.peekPunct(',')) return flags;
        cur.next();
      }
    }
    case 'ip':
      cur.expect('options');
      return NfLogFlag.IpOpt;
    case 'skuid':
      return NfLogFlag.Uid;
    case 'ether':
      return NfLogFlag.MacDecode;
    case 'all':
      return NF_LOG_ALL;
    default:
      return cur.fail(tok, `unknown log flags ${describe(tok)} (tcp sequence, tcp options, ip options, skuid, ether, all)`);
  }
}
