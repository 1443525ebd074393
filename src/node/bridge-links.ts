/**
 * A node's bridges from `ip -j -d link` (ip-link-details.json): a link of kind bridge with its
 * ageing_time, and its ports (info_slave_kind bridge) with their state and the flags
 * hairpin, learning and flood; bridge-fdb.json, when there, the addresses learned before the
 * capture. A port in any state but forwarding is refused (natsim's ports
 * forward), as is a snapshot whose ip-addr.json names a master without ip-link-details.json.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import type { BridgeSpec, InterfaceSpec, LearnedFdbEntry, PortSpec } from '../scenario/spec.js';
import { parseMac } from '../host/device.js';

export const LINK_DETAILS_FILE = 'ip-link-details.json';
/** `bridge -j -s fdb show`: the forwarding database, its learned entries with their age (optional). */
export const BRIDGE_FDB_FILE = 'bridge-fdb.json';

/** ageing_time in ip -d link is in centiseconds (clock_t at USER_HZ 100). */
const CENTISECOND_NS = 1e7;

type Json = Record<string, unknown>;

/** The interfaces with what ip-link-details.json says of bridges and ports. */
export function withBridges(dir: string, interfaces: InterfaceSpec[], readJsonArray: (file: string) => Json[], masters: ReadonlyMap<string, string>): InterfaceSpec[] {
  const file = join(dir, LINK_DETAILS_FILE);
  if (!existsSync(file)) {
    const [port, master] = [...masters][0] ?? [];
    if (port !== undefined) throw new InputError({ file: join(dir, 'ip-addr.json') }, `${port} is a port of ${master!}, but the snapshot has no ${LINK_DETAILS_FILE} (ip -j -d link) to tell the bridge's ageing time and the port's hairpin mode`);
    return interfaces;
  }
  const links = new Map(readJsonArray(file).map((l) => [String(l.ifname), l]));
  const fdbFile = join(dir, BRIDGE_FDB_FILE);
  const fdb = existsSync(fdbFile) ? readJsonArray(fdbFile) : [];
  return interfaces.map((ifs) => {
    const link = links.get(ifs.name);
    const info = (link?.linkinfo ?? {}) as Json;
    const bridge = bridgeOf(file, ifs.name, info);
    return { ...ifs, bridge: bridge && { ...bridge, learned: learnedOf(fdbFile, ifs.name, fdb) }, port: portOf(file, ifs.name, link ?? {}, info) };
  });
}

/**
 * The entries of bridge-fdb.json the bridge learned (state "": dynamic), with `updated`, the
 * seconds since they were last refreshed. Its permanent entries are the ports' own addresses
 * natsim has already; the device's own ("self") lists are not the bridge's. A static entry
 * (bridge fdb add … static) or one learned from outside (extern_learn) is refused.
 */
function learnedOf(file: string, bridge: string, entries: Json[]): LearnedFdbEntry[] {
  const out: LearnedFdbEntry[] = [];
  entries.forEach((e, i) => {
    if (e.master !== bridge) return;
    const what = `entry ${i + 1} (${String(e.mac)} on ${String(e.ifname)})`;
    if (e.state === 'permanent') return;
    const flags = Array.isArray(e.flags) ? e.flags : [];
    if ((e.state !== undefined && e.state !== '') || flags.length > 0) throw new InputError({ file }, `${what}: ${typeof e.state === 'string' && e.state !== '' ? e.state : flags.join(' ')} FDB entries are not modelled (natsim's bridges learn, and know their ports' own addresses)`);
    const mac = typeof e.mac === 'string' ? parseMac(e.mac) : null;
    if (mac === null || typeof e.ifname !== 'string' || typeof e.updated !== 'number') throw new InputError({ file }, `${what}: a learned entry needs mac, ifname and updated (bridge -j -s fdb show)`);
    out.push({ mac, port: e.ifname, ago: e.updated * 1e9 });
  });
  return out;
}

function bridgeOf(file: string, name: string, info: Json): BridgeSpec | null {
  if (info.info_kind !== 'bridge') return null;
  const ageing = (info.info_data as Json | undefined)?.ageing_time;
  if (typeof ageing !== 'number' || ageing < 0) throw new InputError({ file }, `${name}: a bridge without a valid ageing_time in linkinfo.info_data`);
  return { ageingTime: ageing * CENTISECOND_NS };
}

function portOf(file: string, name: string, link: Json, info: Json): PortSpec | null {
  if (info.info_slave_kind !== 'bridge') return null;
  const data = (info.info_slave_data ?? {}) as Json;
  if (typeof link.master !== 'string') throw new InputError({ file }, `${name}: a bridge port without a master`);
  if (data.state !== 'forwarding') throw new InputError({ file }, `${name}: bridge port state '${String(data.state)}' is not modelled (natsim's ports forward)`);
  const flag = (key: string, dflt: boolean): boolean => (typeof data[key] === 'boolean' ? (data[key] as boolean) : dflt);
  return { master: link.master, flags: { hairpin: flag('hairpin', false), learning: flag('learning', true), flood: flag('flood', true) }, place: { file } };
}
