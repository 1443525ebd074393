/**
 * `-j CT [--notrack] [--helper NAME]` (net/netfilter/xt_CT.c; raw table only): the conntrack
 * template a packet not yet tracked starts from. --notrack leaves the packet untracked (as
 * NOTRACK). --helper names the conntrack helper its connection gets (xt_ct_set_helper): natsim
 * checks the name as the kernel does and says in the trace that the helper is not modelled —
 * no expectations, so a helper's data connections are not RELATED. Without options the template
 * changes nothing natsim models. Zones, timeout policies and event masks are refused.
 */
import { IPPROTO } from '../constants.js';
import type { RuleContext } from './context.js';
import type { OptionReader } from './iptables-modules.js';
import type { Effect, Rule, XtTarget } from './model.js';
import { noInvert, type XtCheck, type XtTargetOptions } from './xt-options.js';

/** The helpers Linux 6.x registers (nf_conntrack_helper_register), by name, with their L4 protocols. */
const HELPERS: Readonly<Record<string, readonly number[]>> = {
  ftp: [IPPROTO.TCP],
  tftp: [IPPROTO.UDP],
  sip: [IPPROTO.UDP, IPPROTO.TCP],
  irc: [IPPROTO.TCP],
  amanda: [IPPROTO.UDP],
  pptp: [IPPROTO.TCP],
  'netbios-ns': [IPPROTO.UDP],
  snmp: [IPPROTO.UDP],
  snmp_trap: [IPPROTO.UDP],
  sane: [IPPROTO.TCP],
  RAS: [IPPROTO.UDP],
  'Q.931': [IPPROTO.TCP],
};

/** XT_CT_NOTRACK's target is the same untracked template as NOTRACK's. */
const NOTRACK: Effect = { kind: 'notrack' };

class XtCtHelper implements XtTarget {
  readonly name = 'CT';
  // xt_ct_tg_check: a template (helper or none) takes nf_ct_netns_get
  readonly needsConntrack = true;

  constructor(private readonly helper: string) {}

  target(ctx: RuleContext, rule: Rule): boolean {
    ctx.state.notes?.push(`CT: conntrack helper "${this.helper}" set on the connection's template; natsim does not model helpers (no expectations, no RELATED data connections) (rule "${rule.text}")`);
    return true;
  }
}

/** A template with nothing natsim models: nf_conntrack_in resolves the packet as without it. */
const PLAIN: XtTarget = { name: 'CT', needsConntrack: true, target: () => true };

const REFUSED: Readonly<Record<string, string>> = {
  '--zone': 'conntrack zones are not modelled by natsim',
  '--zone-orig': 'conntrack zones are not modelled by natsim',
  '--zone-reply': 'conntrack zones are not modelled by natsim',
  '--timeout': 'timeout policies (nfct timeout objects) are not modelled by natsim',
  '--ctevents': 'conntrack event masks are not modelled by natsim',
  '--expevents': 'expectation event masks are not modelled by natsim',
};

export class CtOptions implements XtTargetOptions {
  private notrack = false;
  private helper: string | null = null;

  read(r: OptionReader): boolean {
    const refused = REFUSED[r.option];
    if (refused !== undefined) r.fail(`CT ${r.option}: ${refused}`);
    if (r.option === '--notrack') {
      noInvert(r, 'CT');
      this.notrack = true;
      return true;
    }
    if (r.option !== '--helper') return false;
    noInvert(r, 'CT');
    this.helper = r.value();
    return true;
  }

  /** xt_ct_tg_check: --notrack first; a helper needs the rule's protocol (xt_ct_find_proto) and must exist for it. */
  build(check: XtCheck): Effect {
    if (this.notrack) return NOTRACK;
    const name = this.helper;
    if (name === null) return { kind: 'xt', target: PLAIN };
    if (check.proto === 0) check.fail(`CT --helper ${name}: the kernel wants a layer-4 protocol (-p, not inverted) for a helper`);
    const protos = HELPERS[name];
    if (protos === undefined || !protos.includes(check.proto)) check.fail(`CT --helper ${name}: the kernel has no such helper for this protocol (${Object.keys(HELPERS).join(', ')})`);
    return { kind: 'xt', target: new XtCtHelper(name) };
  }
}
