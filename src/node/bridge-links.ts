/**
 * A node's bridges from `ip -j -d link` (ip-link-details.json): a link of kind bridge with its
 * ageing_time, and its ports (info_slave_kind bridge) with their state and the flags
 * hairpin, learning and flood. A port in any state but forwarding is refused (natsim's ports
 * forward), as is a snapshot whose ip-addr.json names a master without ip-link-details.json.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import type { BridgeSpec, InterfaceSpec, PortSpec } from '../scenario/spec.js';

export const LINK_DETAILS_FILE = 'ip-link-details.json';

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
  return interfaces.map((ifs) => {
    const link = links.get(ifs.name);
    const info = (link?.linkinfo ?? {}) as Json;
    return { ...ifs, bridge: bridgeOf(file, ifs.name, info), port: portOf(file, ifs.name, link ?? {}, info) };
  });
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
