/**
 * `natsim ipvs INPUT`: the IPVS table of the traced hosts when the run ends, as `ipvsadm -Ln`
 * prints it (ActiveConn/InActConn as the connections left them), or with `--connection` the
 * connection entries as `ipvsadm -Lnc` does.
 */
import { IPPROTO } from '../netfilter/constants.js';
import { stateName } from '../netfilter/ipvs/conn-state.js';
import type { IpvsConn } from '../netfilter/ipvs/conn.js';
import { formatIpvsConnections, formatIpvsList, type IpvsConnView } from '../netfilter/ipvs/ipvsadm-list.js';
import type { LineSink } from '../trace/sinks.js';
import { runInput, type RunOptions } from './run-input.js';

export interface IpvsOptions extends RunOptions {
  readonly connection: boolean;
}

export async function ipvsCommand(input: string, options: IpvsOptions, out: LineSink): Promise<number> {
  const result = await runInput(input, options, () => null);
  const hosts = result.hosts.filter((h) => h.ipvs !== null);
  if (hosts.length === 0) options.stderr.line(`natsim: ${result.hosts.map((h) => h.name).join(', ')}: no IPVS virtual services`);
  for (const host of hosts) {
    const ipvs = host.ipvs!;
    ipvs.expire(result.endTime);
    if (hosts.length > 1) out.line(`${host.name}:`);
    const lines = options.connection ? formatIpvsConnections(ipvs.conns.all().map((cp) => connView(cp, result.endTime))) : formatIpvsList(ipvs.services);
    for (const line of lines) out.line(line);
  }
  return 0;
}

/** A connection as /proc/net/ip_vs_conn shows it: seconds left on its timer. */
function connView(cp: IpvsConn, now: number): IpvsConnView {
  return {
    protocol: cp.proto === IPPROTO.TCP ? 'TCP' : cp.proto === IPPROTO.UDP ? 'UDP' : 'IP',
    expiresIn: Math.max(0, Math.floor((cp.expires - now) / 1e9)),
    state: stateName(cp.proto, cp.state),
    caddr: cp.caddr,
    cport: cp.cport,
    vaddr: cp.vaddr,
    vport: cp.vport,
    daddr: cp.daddr,
    dport: cp.dport,
  };
}
