/**
 * The x_tables matches and targets with a file of their own, by the name iptables-save writes
 * after -m or -j, as xt_find_match / xt_find_target look them up.
 */
import type { XtMatchOptions, XtTargetOptions } from './xt-options.js';
import { ChecksumOptions } from './xt-checksum.js';
import { ConntrackOptions } from './xt-conntrack.js';
import { CtOptions } from './xt-ct.js';
import { DscpOptions, TosOptions } from './xt-dscp.js';
import { HashlimitOptions } from './xt-hashlimit.js';
import { IprangeOptions } from './xt-iprange.js';
import { LengthOptions } from './xt-length.js';
import { LimitOptions } from './xt-limit.js';
import { MacOptions } from './xt-mac.js';
import { NfacctOptions } from './xt-nfacct.js';
import { NflogOptions } from './xt-nflog.js';
import { OwnerOptions } from './xt-owner.js';
import { PkttypeOptions } from './xt-pkttype.js';
import { QuotaOptions } from './xt-quota.js';
import { RpfilterOptions } from './xt-rpfilter.js';
import { StringOptions } from './xt-string.js';
import { TcpmssOptions } from './xt-tcpmss.js';
import { TcpmssMatchOptions } from './xt-tcpmss-match.js';
import { TimeOptions } from './xt-time.js';
import { TtlOptions } from './xt-ttl.js';

export const XT_MATCHES: Readonly<Record<string, () => XtMatchOptions>> = {
  conntrack: () => new ConntrackOptions(),
  limit: () => new LimitOptions(),
  hashlimit: () => new HashlimitOptions(),
  iprange: () => new IprangeOptions(),
  nfacct: () => new NfacctOptions(),
  ttl: () => new TtlOptions('ttl'),
  hl: () => new TtlOptions('hl'),
  pkttype: () => new PkttypeOptions(),
  quota: () => new QuotaOptions(),
  rpfilter: () => new RpfilterOptions(),
  mac: () => new MacOptions(),
  length: () => new LengthOptions(),
  dscp: () => new DscpOptions(),
  tos: () => new TosOptions(),
  owner: () => new OwnerOptions(),
  tcpmss: () => new TcpmssMatchOptions(),
  string: () => new StringOptions(),
  time: () => new TimeOptions(),
};

/** Each target's options, and the tables its xt_target.table allows (any when absent). */
export const XT_TARGETS: Readonly<Record<string, { readonly options: () => XtTargetOptions; readonly tables?: readonly string[] }>> = {
  NFLOG: { options: () => new NflogOptions() },
  CHECKSUM: { options: () => new ChecksumOptions(), tables: ['mangle'] },
  TCPMSS: { options: () => new TcpmssOptions() },
  CT: { options: () => new CtOptions(), tables: ['raw'] },
};
