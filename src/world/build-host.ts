/**
 * Builds a Host from its scenario description: devices (loopback first, as in the kernel's
 * device list), addresses with their routes, scenario routes, sysctls and the ruleset's hooks.
 */
import { isIpv6 } from '../packet/ipv6-addr.js';
import { InputError, type SourcePlace } from '../errors.js';
import { NetDevice, Scope } from '../host/device.js';
import { Fib } from '../host/fib.js';
import { Host, type HostPorts } from '../host/host.js';
import { parseRoute } from '../host/route-syntax.js';
import { Sysctl, SYSCTL_DEFAULTS, SYSCTL_RANGES } from '../host/sysctl.js';
import { devConfName, type DevConfKey } from '../ipv4/devconf.js';
import { NetfilterNet } from '../netfilter/net.js';
import { buildHooks } from '../netfilter/stack.js';
import { NFPROTO_IPV4, NFPROTO_IPV6, tablesOfFamily } from '../netfilter/rules/model.js';
import { conntrackWanted } from '../netfilter/conntrack/netns.js';
import { DrawFollower } from '../netfilter/rules/follow-draw.js';
import { parseIpsets, parseIpvs, parseRuleset } from '../netfilter/rules/parse.js';
import { Ipvs } from '../netfilter/ipvs/ipvs.js';
import { registerIpvsHooks } from '../netfilter/ipvs/core.js';
import { AddrType } from '../netfilter/rules/model.js';
import { parsePrefix } from '../packet/ipv4-addr.js';
import { Prng, streamSeed } from '../sim/prng.js';
import { IcmpGlobal } from '../ipv4/icmp-global.js';
import type { KernelProfile } from '../kernel/profile.js';
import type { HostSpec, Located, RulesetSpec } from '../scenario/spec.js';
import { parseInet6Ifaddr, type Inet6Ifaddr } from '../ipv6/addrconf.js';
import { isRoute6, parseRoute6 } from '../ipv6/route.js';
import { BacklogCpu } from '../host/backlog-cpu.js';
import { Bridge } from '../bridge/bridge.js';
import { macText } from '../netfilter/log/nf-log-syslog.js';
import type { ClockOrigin } from '../capture/clock-origin.js';

const ADDR_TYPE_BIT = { local: AddrType.Local, broadcast: AddrType.Broadcast, multicast: AddrType.Multicast, unicast: AddrType.Unicast } as const;

/**
 * `inventMacs`: give an interface the file says no address for one of its own (a simulated
 * world, where every frame needs both ends'); a capture replay leaves it unknown instead.
 * `clock`: a capture's wall clock, which time-of-day rules read (nft meta time/day/hour, -m time).
 */
export function buildHost(spec: HostSpec, ports: HostPorts, prng: Prng, cpus: number, kernel: KernelProfile, inventMacs: boolean, clock: ClockOrigin | null = null): Host {
  const devices = buildDevices(spec, inventMacs);
  const fib = new Fib();
  for (const dev of devices) for (const ifa of dev.addrs) fib.addInterfaceRoutes(dev, ifa, dev.name === 'lo');
  for (const r of spec.routes) {
    try {
      if (isRoute6(r.value)) continue; // below, once the host has its FIB6
      fib.add(parseRoute(r.value, devices));
    } catch (e) {
      throw new InputError(r.place, `route '${r.value}': ${(e as Error).message}`);
    }
  }
  const sysctl = new Sysctl(kernel);
  for (const { value: [name, value], place } of spec.sysctl) {
    const conf = devConfName(name);
    if (conf) {
      setDevConf(sysctl, conf, value, devices, place);
      continue;
    }
    if (!Sysctl.isKnown(name)) throw new InputError(place, `sysctl '${name}' is not modelled by natsim`);
    if (!sysctl.exists(name)) throw new InputError(place, `sysctl '${name}' does not exist on Linux ${kernel.version}`);
    if (typeof SYSCTL_DEFAULTS[name] === 'number' && typeof value !== 'number') throw new InputError(place, `sysctl '${name}' needs a number, got '${value}'`);
    const range = SYSCTL_RANGES[name];
    if (range && !(Number.isInteger(value) && (value as number) >= range[0] && (value as number) <= range[1])) throw new InputError(place, `sysctl '${name}' takes a whole number from ${range[0]} to ${range[1]}, got '${value}' (the kernel refuses it with EINVAL)`);
    sysctl.set(name, value);
  }
  if (devices.some((d) => d.bridge) && spec.ruleset) refuseArptablesForward(spec.ruleset, sysctl);
  const net = new NetfilterNet(sysctl, prng, cpus, spec.conntrackHashSeed ?? streamSeed(prng.seed, `hash ${spec.name}`));
  const ipsets = spec.ipsets ? parseIpsets(spec.ipsets) : new Map();
  const ruleset = spec.ruleset ? parseRuleset(spec.ruleset, ipsets) : { tables: [] };
  if (spec.ip6tables) ruleset.tables.push(...parseRuleset(spec.ip6tables, ipsets, NFPROTO_IPV6).tables);
  const follow = new DrawFollower(ruleset, () => net.recorded);
  // ktime_get_real_ns: a capture's own clock (its first record is virtual time 0); a scenario's starts at the epoch
  const wallNs = clock === null ? undefined : (time: number) => wallNsOf(clock, time);
  const env = { addrType: (addr: number) => ADDR_TYPE_BIT[fib.addrType(addr)], prng, follow, routeTo: (addr: number) => (isIpv6(addr) ? host.fib6.lookup(addr) : fib.lookup(addr)), ...(wallNs ? { wallNs } : {}) };
  const services = spec.ipvs ? parseIpvs(spec.ipvs) : [];
  // nf_ct_netns_get per family: an ip or inet table (or IPVS) for IPv4, an ip6 or inet table for IPv6
  const tracked = {
    ipv4: conntrackWanted(tablesOfFamily(ruleset, NFPROTO_IPV4), services),
    ipv6: conntrackWanted(tablesOfFamily(ruleset, NFPROTO_IPV6), []),
  };
  const hooks = buildHooks(net, ruleset, tracked, devices, env);
  const icmpGlobal = new IcmpGlobal(sysctl, new Prng(streamSeed(prng.seed, `icmp credits ${spec.name}`)));
  const host = new Host(spec.name, devices, fib, sysctl, net, hooks.ipv4, hooks.ipv6, ports, new BacklogCpu(cpus, prng.seed, spec.name), icmpGlobal);
  host.ruleset = ruleset;
  host.clock = clock;
  buildFib6(host, spec);
  // ip_vs_add_service registers IPVS's hooks with the first virtual service.
  if (services.length > 0) {
    host.ipvs = new Ipvs(services, net, sysctl);
    registerIpvsHooks(host, host.ipvs);
  }
  return host;
}

/** lo is index 1 with 127.0.0.1/8 and ::1/128; the others follow in file order unless an index is given. */
export function buildDevices(spec: HostSpec, inventMacs: boolean): NetDevice[] {
  const lo = new NetDevice(1, 'lo', null, new Uint8Array(6), 'loopback');
  lo.mtu = 65536;
  lo.addAddress(0x7f000001, 8, Scope.Host);
  lo.addAddress6(LOOPBACK6);
  const devices = [lo];
  let next = 2;
  for (const ifs of spec.interfaces) {
    if (ifs.name === 'lo') throw new InputError(ifs.place, 'lo is implicit (index 1, 127.0.0.1/8)');
    const index = ifs.index ?? next;
    if (devices.some((d) => d.index === index)) throw new InputError(ifs.place, `interface index ${index} is used twice`);
    next = Math.max(next, index + 1);
    const dev = new NetDevice(index, ifs.name, ifs.link, ifs.mac ?? (inventMacs ? inventedMac(spec.name, ifs.name) : null));
    if (ifs.mtu !== null) dev.mtu = ifs.mtu;
    for (const group of ifs.groups ?? []) dev.mcList.add(group);
    for (const a of ifs.addrs) {
      if (a.value.includes(':')) {
        addAddress6(dev, a);
        continue;
      }
      const prefix = parsePrefix(a.value);
      if (!prefix || !a.value.includes('/')) throw new InputError(a.place, `bad address '${a.value}' (expected A.B.C.D/LEN or IPV6-ADDRESS/LEN)`);
      const err = dev.addAddress(prefix.addr, prefix.len, Scope.Universe);
      if (err) throw new InputError(a.place, `${a.value}: ${err}`);
    }
    devices.push(dev);
  }
  devices.sort((a, b) => a.index - b.index);
  addBridges(spec, devices);
  return devices;
}

/**
 * net.ipv4.conf.DEV.KEY: the device's own value; `default`, as devinet_conf_proc has it, also
 * every existing device's that was not written before (a scenario's devices all exist from
 * the start), in the order the scenario writes them.
 */
function setDevConf(sysctl: Sysctl, conf: { dev: string; key: DevConfKey }, value: string | number, devices: readonly NetDevice[], place: SourcePlace): void {
  const { dev, key } = conf;
  if (dev !== 'default' && !devices.some((d) => d.name === dev)) throw new InputError(place, `sysctl 'net.ipv4.conf.${dev}.${key}': this host has no device '${dev}' (it has ${devices.map((d) => d.name).join(', ')})`);
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new InputError(place, `sysctl 'net.ipv4.conf.${dev}.${key}' needs a whole number (0 off${key === 'rp_filter' ? ', 1 strict, 2 loose' : ', 1 on'}), got '${value}'`);
  if (dev === 'default') sysctl.setDefaultDevConf(devices.map((d) => d.name), key, value);
  else sysctl.setDevConf(dev, key, value);
}

/**
 * br_nf_forward_arp hands bridged ARP to an arp table's forward chain when
 * bridge-nf-call-arptables=1; natsim runs no ARP through rules (arp tables are skipped), so a
 * ruleset that has such a chain is refused rather than replayed as if it let ARP through.
 */

function refuseArptablesForward(ruleset: RulesetSpec, sysctl: Sysctl): void {
  if (sysctl.num('net.bridge.bridge-nf-call-arptables') !== 1) return;
  const m = /^[ \t]*table[ \t]+arp[ \t]+\S+[ \t]*\{[^}]*?\bhook\s+forward\b/m.exec(ruleset.text);
  if (!m) return;
  const before = ruleset.text.slice(0, m.index).split('\n');
  const col = ruleset.colOffset + before.at(-1)!.length + m[0].length - m[0].trimStart().length + 1;
  throw new InputError({ file: ruleset.file, line: ruleset.lineOffset + before.length, col }, 'an arp table with a forward chain and net.bridge.bridge-nf-call-arptables=1: natsim runs no bridged ARP through arptables (br_nf_forward_arp); set the sysctl to 0 or leave the table out');
}

/** ip link add … type bridge, then ip link set PORT master BRIDGE, ports in index order (br_add_if). */
function addBridges(spec: HostSpec, devices: NetDevice[]): void {
  const byName = new Map(devices.map((d) => [d.name, d]));
  for (const ifs of spec.interfaces) if (ifs.bridge) new Bridge(byName.get(ifs.name)!, ifs.bridge.ageingTime);
  for (const dev of devices) {
    const port = spec.interfaces.find((i) => i.name === dev.name)?.port;
    if (!port) continue;
    const master = byName.get(port.master)?.bridge;
    if (!master) throw new InputError(port.place, `interface ${dev.name}: master '${port.master}' is not a bridge of host ${spec.name}`);
    master.addPort(dev, port.flags);
  }
  // what the FDB had learned when the snapshot was taken, as old as it was then
  for (const ifs of spec.interfaces) {
    for (const e of ifs.bridge?.learned ?? []) {
      const port = byName.get(e.port)?.brPort;
      if (!port || port.br.dev.name !== ifs.name) throw new InputError(ifs.place, `FDB entry ${macText(e.mac)}: ${e.port} is not a port of ${ifs.name}`);
      port.br.fdb.update(port, e.mac, -e.ago);
    }
  }
}

/** The IPv6 routes of the addresses, then the IPv6 ones the spec gives. */
function buildFib6(host: Host, spec: HostSpec): void {
  for (const dev of host.devices) for (const ifa of dev.addrs6) host.fib6.addAddressRoutes(dev, ifa);
  for (const r of spec.routes) {
    if (!isRoute6(r.value)) continue;
    try {
      host.fib6.add(parseRoute6(r.value, host.devices));
    } catch (e) {
      throw new InputError(r.place, `route '${r.value}': ${(e as Error).message}`);
    }
  }
}

/** ::1/128, which the kernel gives lo once IPv6 is up (init_loopback). */
const LOOPBACK6 = parseInet6Ifaddr('::1/128') as Inet6Ifaddr;

/** An IPv6 address of an interface: "fd00:3::254/64", with any flags after it ("nodad deprecated"). */
function addAddress6(dev: NetDevice, a: Located<string>): void {
  const ifa = parseInet6Ifaddr(a.value);
  if (typeof ifa === 'string') throw new InputError(a.place, `bad address '${a.value}': ${ifa}`);
  const err = dev.addAddress6(ifa);
  if (err) throw new InputError(a.place, err);
}

/**
 * An address of the kind eth_random_addr gives a veth (locally administered, unicast), made
 * from the host's and the interface's names so that a run repeats.
 */
function inventedMac(host: string, ifname: string): Uint8Array {
  let h = 0x811c9dc5;
  const mac = new Uint8Array(6);
  for (let i = 0; i < mac.length; i++) {
    for (const ch of `${host}/${ifname}/${i}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
    mac[i] = h & 0xff;
  }
  mac[0] = (mac[0]! & 0xfe) | 0x02;
  return mac;
}

/** Nanoseconds since 1970 of virtual time `time` (a double: exact to about 0.25 µs today, which the rules' seconds and hours do not notice). */
function wallNsOf(clock: ClockOrigin, time: number): number {
  const { sec, nsec } = clock.wall(time);
  return sec * 1e9 + nsec;
}
