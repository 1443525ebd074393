/**
 * `natsim conntrack INPUT`: the conntrack table when the run ends, as `conntrack -L` lists it —
 * in the kernel's dump order for the host's hash key (ConntrackTable.connections), with
 * conntrack-tools' count on stderr; with `--events`, the entries' lives as
 * `conntrack -E -o timestamp` shows them, stamped with the capture's own time. `--family`
 * keeps one family's entries and events, as `conntrack -L -f ipv6` (conntrack-tools' -f sets
 * the dump's nfgen_family) does; without it both are listed, as `conntrack -L` does.
 */
import { Status } from '../netfilter/conntrack/conn.js';
import { gcSweep } from '../netfilter/conntrack/gc.js';
import { conntrackEventLine, conntrackJsonEntry, conntrackListFooter, conntrackListLine } from '../report/conntrack-list.js';
import { viewEntry, type TraceEvent, type TraceSink } from '../trace/events.js';
import type { LineSink } from '../trace/sinks.js';
import { ClockOrigin } from '../capture/clock-origin.js';
import { runInput, type RunOptions } from './run-input.js';
import { isIpv6 } from '../packet/ipv6-addr.js';

export interface ConntrackOptions extends RunOptions {
  readonly events: boolean;
  readonly json: boolean;
  /** conntrack -f: only this family's entries (null: every family). */
  readonly family: 'ipv4' | 'ipv6' | null;
}

/** Whether an entry whose original source is `addr` belongs to the family asked for. */
function ofFamily(addr: number, family: ConntrackOptions['family']): boolean {
  return family === null || isIpv6(addr) === (family === 'ipv6');
}

export async function conntrackCommand(input: string, options: ConntrackOptions, out: LineSink): Promise<number> {
  // set from a capture's first record, before any event
  const origin = new ClockOrigin();
  const eventSink = (multiHost: boolean): TraceSink => ({
    emit(e: TraceEvent): void {
      if (e.kind !== 'conntrack' || !ofFamily(e.entry.orig.src, options.family)) return;
      if (options.json) out.line(JSON.stringify({ host: e.host, time: e.time, event: e.event, entry: conntrackJsonEntry(e.entry) }));
      else out.line(`${multiHost ? `${e.host}: ` : ''}${conntrackEventLine(e.event, origin.wall(e.time), e.entry)}`);
    },
  });
  const result = await runInput(input, { ...options, origin }, (multi) => (options.events ? eventSink(multi) : null));
  // The run is over: what expired by now is gone (and, with --events, says so).
  // IPVS connections that ran out by now take their conntrack entries along (conntrack=1).
  for (const host of result.hosts) host.ipvs?.expire(result.endTime);
  for (const host of result.hosts) gcSweep(host.nf, result.endTime);
  if (options.events) return 0;
  for (const host of result.hosts) {
    // Reply-only clash entries (NAT_CLASH) sit on a fake original node: a dump never shows them.
    const entries = [...host.nf.table.connections()].filter((ct) => !ct.has(Status.NatClash) && ofFamily(ct.tuple(0).src, options.family));
    if (result.hosts.length > 1 && !options.json) out.line(`${host.name}:`);
    for (const ct of entries) {
      const view = viewEntry(ct, result.endTime);
      out.line(options.json ? JSON.stringify({ host: host.name, entry: conntrackJsonEntry(view) }) : conntrackListLine(view));
    }
    if (!options.json) options.stderr.line(conntrackListFooter(entries.length));
  }
  return 0;
}
