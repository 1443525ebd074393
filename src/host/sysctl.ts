/**
 * The sysctls natsim models, with Linux 6.18 defaults (as a fresh netns shows them); a kernel
 * profile (kernel/profile.ts) changes a default or removes a name its kernel does not have. A
 * scenario may set any of them; a name natsim does not know, or the kernel does not have, is an
 * error rather than silently ignored.
 */
import { DEFAULT_KERNEL, type KernelProfile } from '../kernel/profile.js';
import { DEV_CONF_DEFAULTS, type DevConfKey } from '../ipv4/devconf.js';

export const SYSCTL_DEFAULTS = {
  'net.ipv4.ip_forward': 0,
  'net.ipv4.ip_local_port_range': '32768 60999',
  // the receive path's source checks (ipv4/route-input.ts), each with a per-device value (ipv4/devconf.ts)
  'net.ipv4.conf.all.rp_filter': 0,
  'net.ipv4.conf.all.route_localnet': 0,
  // IPv6 forwarding (ip6_forward reads the "all" value) and icmpv6_xrlim_allow's interval in ms
  'net.ipv6.conf.all.forwarding': 0,
  'net.ipv6.icmp.ratelimit': 100,
  'net.ipv4.conf.all.accept_local': 0,
  // ICMP redirects of a packet forwarded out of the device it came in on (ipv4/rt-redirect.ts)
  'net.ipv4.conf.all.send_redirects': 1,
  'net.ipv4.conf.all.shared_media': 1,
  // icmp_rcv: whether an echo request to a broadcast address or a group goes unanswered
  'net.ipv4.icmp_echo_ignore_broadcasts': 1,
  // the global limit of ICMP and ICMPv6 errors (ipv4/icmp-global.ts)
  'net.ipv4.icmp_msgs_per_sec': 1000,
  'net.ipv4.icmp_msgs_burst': 50,
  // IPv4 reassembly (Documentation/networking/ip-sysctl.rst): queue memory and timeout
  'net.ipv4.ipfrag_high_thresh': 4194304,
  'net.ipv4.ipfrag_time': 30,
  // IPv6 reassembly for conntrack (nf_conntrack_reasm.c: IPV6_FRAG_TIMEOUT, IPV6_FRAG_HIGH_THRESH)
  'net.netfilter.nf_conntrack_frag6_timeout': 60,
  'net.netfilter.nf_conntrack_frag6_high_thresh': 4194304,
  'net.ipv4.tcp_syn_retries': 6,
  // TCP timestamps in both families (sockets/tcp-timestamps.ts): 0 off, 1 on with a random
  // offset per address pair, any other u8 value on without it (secure_tcp_ts_off)
  'net.ipv4.tcp_timestamps': 1,
  'net.ipv4.tcp_syn_linear_timeouts': 4,
  // data retransmission (sockets/tcp-socket.ts): the tail loss probe with 3 or 4, and how long
  // the retransmission timer tries (tcp_write_timeout; an orphan's 0 means 8, tcp_orphan_retries)
  'net.ipv4.tcp_early_retrans': 3,
  'net.ipv4.tcp_retries2': 15,
  'net.ipv4.tcp_orphan_retries': 0,
  'net.netfilter.nf_conntrack_max': 262144,
  'net.netfilter.nf_conntrack_checksum': 1,
  'net.netfilter.nf_conntrack_buckets': 262144,
  'net.netfilter.nf_conntrack_generic_timeout': 600,
  'net.netfilter.nf_conntrack_icmp_timeout': 30,
  'net.netfilter.nf_conntrack_icmpv6_timeout': 30,
  'net.netfilter.nf_conntrack_udp_timeout': 30,
  'net.netfilter.nf_conntrack_udp_timeout_stream': 120,
  'net.netfilter.nf_conntrack_tcp_timeout_syn_sent': 120,
  'net.netfilter.nf_conntrack_tcp_timeout_syn_recv': 60,
  'net.netfilter.nf_conntrack_tcp_timeout_established': 432000,
  'net.netfilter.nf_conntrack_tcp_timeout_fin_wait': 120,
  'net.netfilter.nf_conntrack_tcp_timeout_close_wait': 60,
  'net.netfilter.nf_conntrack_tcp_timeout_last_ack': 30,
  'net.netfilter.nf_conntrack_tcp_timeout_time_wait': 120,
  'net.netfilter.nf_conntrack_tcp_timeout_close': 10,
  'net.netfilter.nf_conntrack_tcp_timeout_max_retrans': 300,
  'net.netfilter.nf_conntrack_tcp_timeout_unacknowledged': 300,
  'net.netfilter.nf_conntrack_tcp_loose': 1,
  'net.netfilter.nf_conntrack_tcp_be_liberal': 0,
  'net.netfilter.nf_conntrack_tcp_max_retrans': 3,
  'net.netfilter.nf_conntrack_tcp_ignore_invalid_rst': 0,
  // br_netfilter (net/bridge/br_netfilter_hooks.c): 0 here is the module not loaded, which a
  // snapshot without these lines in sysctl.txt means; `modprobe br_netfilter` makes them 1
  'net.bridge.bridge-nf-call-iptables': 0,
  'net.bridge.bridge-nf-call-ip6tables': 0,
  'net.bridge.bridge-nf-call-arptables': 0,
  // IPVS (Documentation/networking/ipvs-sysctl.rst)
  'net.ipv4.vs.conntrack': 0,
  'net.ipv4.vs.conn_reuse_mode': 1,
} as const;

export type SysctlName = keyof typeof SYSCTL_DEFAULTS;

/**
 * Sysctls whose handler takes a bounded whole number: proc_dou8vec_minmax without extra1/extra2
 * takes 0-255, with them (tcp_early_retrans: SYSCTL_ZERO, SYSCTL_FOUR) their range, and fails any
 * other write with EINVAL (net/ipv4/sysctl_net_ipv4.c, kernel/sysctl.c).
 */
export const SYSCTL_RANGES: Partial<Record<SysctlName, readonly [min: number, max: number]>> = {
  'net.ipv4.tcp_timestamps': [0, 255],
  'net.ipv4.tcp_early_retrans': [0, 4],
  'net.ipv4.tcp_retries2': [0, 255],
  'net.ipv4.tcp_orphan_retries': [0, 255],
};

/**
 * Every sysctl's value as a number (NaN for a text one), each a property of one fixed-shape
 * object: the packet path reads several per packet, and a property load is what it can afford.
 */
export type SysctlNumbers = Record<SysctlName, number>;

/** A device's own conf values (struct ipv4_devconf of its in_device, as far as natsim models it). */
export type DevConf = Record<DevConfKey, number>;

export class Sysctl {
  private readonly values = new Map<string, number | string>(Object.entries(SYSCTL_DEFAULTS));
  /**
   * The values as numbers, kept with `values`. The packet path reads a property of it by name
   * (`sysctl.n['net.ipv4.ip_forward']`): each such read site sees one name, so it stays a plain
   * property load, where num() sees every caller's name.
   */
  readonly n: Readonly<SysctlNumbers> = Object.fromEntries(Object.entries(SYSCTL_DEFAULTS).map(([name, v]) => [name, Number(v)])) as SysctlNumbers;
  /** net.ipv4.conf.DEV.* by device name; a device without an entry has ipv4_devconf_dflt's values. */
  private readonly perDevice = new Map<string, DevConf>();
  /** The device values written (in_dev->cnf.state), as DEV/KEY: a write to conf.default leaves them be. */
  private readonly written = new Set<string>();

  /** The kernel whose sysctls these are: a name it lacks holds the value its code acts as. */
  constructor(readonly kernel: KernelProfile = DEFAULT_KERNEL) {
    for (const [name, on] of Object.entries(kernel.sysctls)) this.set(name as SysctlName, 'value' in on ? on.value : on.behavesAs);
  }

  static isKnown(name: string): name is SysctlName {
    return Object.prototype.hasOwnProperty.call(SYSCTL_DEFAULTS, name);
  }

  /** Does this kernel have the sysctl (one natsim models)? */
  exists(name: SysctlName): boolean {
    const on = this.kernel.sysctls[name];
    return on === undefined || !('absent' in on);
  }

  set(name: SysctlName, value: number | string): void {
    this.values.set(name, value);
    (this.n as SysctlNumbers)[name] = Number(value);
  }

  /** net.ipv4.conf.DEV.KEY written: the device's own value, marked as set (in_dev->cnf.state). */
  setDevConf(dev: string, key: DevConfKey, value: number): void {
    this.writeDevConf(dev, key, value);
    this.written.add(`${dev}/${key}`);
  }

  /**
   * net.ipv4.conf.default.KEY written (devinet_copy_dflt_conf): every device of `devices` whose
   * own value was never written takes it; one written before keeps its own.
   */
  setDefaultDevConf(devices: readonly string[], key: DevConfKey, value: number): void {
    for (const dev of devices) if (!this.written.has(`${dev}/${key}`)) this.writeDevConf(dev, key, value);
  }

  private writeDevConf(dev: string, key: DevConfKey, value: number): void {
    let conf = this.perDevice.get(dev);
    if (!conf) this.perDevice.set(dev, (conf = { ...DEV_CONF_DEFAULTS }));
    conf[key] = value;
  }

  /** The device's own conf values (ipv4/devconf.ts combines them with conf.all). */
  devConf(dev: string): Readonly<DevConf> {
    return this.perDevice.get(dev) ?? DEV_CONF_DEFAULTS;
  }

  /** A numeric sysctl (for the packet path, read `n` instead). */
  num(name: SysctlName): number {
    return this.n[name];
  }

  text(name: SysctlName): string {
    return String(this.values.get(name));
  }
}
