/**
 * Picks the front-end for a ruleset text: iptables-save output (`*table` … `COMMIT`) or nft.
 * Errors are moved to where the text sits in its file (a scenario's inline ruleset).
 */
import { InputError, type SourcePlace } from '../../errors.js';
import type { RulesetSpec } from '../../scenario/spec.js';
import { parseIptablesSave } from './iptables-parser.js';
import { NFPROTO_IPV4, NFPROTO_IPV6, type NfProto, type Ruleset } from './model.js';
import { parseNft } from './nft-parser.js';
import { validateRuleset } from './validate.js';
import { parseIpsetSave, type IpSet } from './ipset.js';
import { parseIpvsadmSave } from '../ipvs/ipvsadm-save.js';
import type { IpvsServiceSpec } from '../ipvs/service.js';
import { formatIpv4 } from '../../packet/ipv4-addr.js';

/** iptables-save text starts (after comments) with a table header such as `*nat`. */
export function looksLikeIptablesSave(text: string): boolean {
  const first = text.split('\n').find((line) => line.trim() !== '' && !line.trimStart().startsWith('#'));
  return first?.trimStart().startsWith('*') ?? false;
}

/** Runs a reader over a text that may sit inside another file, moving its errors there. */
function placed<T>(spec: RulesetSpec, read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (!(e instanceof InputError) || spec.lineOffset === 0) throw e;
    throw new InputError(shift(e.place, spec), e.reason);
  }
}

/** `ipset save` text (for iptables' -m set). */
export function parseIpsets(spec: RulesetSpec): Map<string, IpSet> {
  return placed(spec, () => parseIpsetSave(spec.text, spec.file));
}

/** `ipvsadm -Sn` text (a scenario's ipvs:, a node snapshot's ipvsadm-save.txt). */
export function parseIpvs(spec: RulesetSpec): IpvsServiceSpec[] {
  const services = placed(spec, () => parseIpvsadmSave(spec.text, spec.file)).map((svc) => (spec.lineOffset === 0 ? svc : { ...svc, place: shift(svc.place, spec) }));
  for (const svc of services) {
    const tunnel = svc.dests.find((d) => d.method === 'tunnel');
    if (tunnel) throw new InputError(svc.place, `real server ${formatIpv4(tunnel.addr)}: IPIP tunnel forwarding (-i) is not modelled by natsim; use -m (NAT) or -g (direct routing)`);
  }
  return services;
}

/**
 * `nfproto` NFPROTO_IPV6: the text is ip6tables-save's (a host's ip6tables), which nft text
 * cannot be: nft names each table's family itself.
 */
export function parseRuleset(spec: RulesetSpec, ipsets: ReadonlyMap<string, IpSet> = new Map(), nfproto: NfProto = NFPROTO_IPV4): Ruleset {
  const ruleset = placed(spec, () => {
    const iptables = looksLikeIptablesSave(spec.text);
    if (!iptables && nfproto === NFPROTO_IPV6) throw new InputError({ file: spec.file, line: 1, col: 1 }, 'expected ip6tables-save text (a table header such as *nat first); nft rules go in the ruleset, with their family');
    const parsed = iptables ? parseIptablesSave(spec.text, spec.file, null, ipsets, nfproto) : parseNft(spec.text, spec.file);
    validateRuleset(parsed);
    return parsed;
  });
  if (spec.lineOffset !== 0) {
    for (const table of ruleset.tables) {
      for (const chain of table.chains.values()) chain.rules.splice(0, chain.rules.length, ...chain.rules.map((r) => ({ ...r, place: shift(r.place, spec) })));
    }
  }
  return ruleset;
}

/** A place in a ruleset text, moved to where that text sits in its file (a scenario's inline ruleset). */
export function shift(p: SourcePlace, spec: RulesetSpec): SourcePlace {
  return { ...p, line: p.line === undefined ? undefined : p.line + spec.lineOffset, col: p.col === undefined ? undefined : p.col + spec.colOffset };
}

/**
 * Every problem in a ruleset text at once (natsim lint): each rule natsim cannot read or that
 * the kernel would refuse, in file order, once each; a structural error ends the list.
 */
export function lintRuleset(text: string, file: string): InputError[] {
  const problems = new Map<string, InputError>();
  const report = (e: InputError): void => void problems.set(e.message, e);
  try {
    const ruleset = looksLikeIptablesSave(text) ? parseIptablesSave(text, file, report) : parseNft(text, file, report);
    validateRuleset(ruleset, report);
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    report(e);
  }
  return [...problems.values()].sort((a, b) => (a.place.line ?? 0) - (b.place.line ?? 0) || (a.place.col ?? 0) - (b.place.col ?? 0));
}
