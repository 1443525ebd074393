/**
 * A network device (struct net_device) with its IPv4 addresses (struct in_ifaddr) and IPv6
 * addresses (struct inet6_ifaddr). IPv4 addresses are kept in the kernel's list order with
 * primary/secondary derived as __inet_insert_ifa does; IPv6 ones as ipv6_link_dev_addr orders them.
 */
import { inPrefix, prefixMask } from '../packet/ipv4-addr.js';
import type { Bridge, BridgePort } from '../bridge/bridge.js';
import { formatIpv6 } from '../packet/ipv6-addr.js';
import { ipv6LinkDevAddr, type Inet6Ifaddr } from '../ipv6/addrconf.js';

/** RT_SCOPE_* values. */
export const Scope = { Universe: 0, Site: 200, Link: 253, Host: 254, Nowhere: 255 } as const;

export interface InAddr {
  readonly local: number;
  readonly prefixLen: number;
  readonly scope: number;
  /** IFA_F_SECONDARY: another address of the same subnet was there first. */
  readonly secondary: boolean;
}

/** dev->type: ARPHRD_ETHER (veth, Ethernet) or ARPHRD_LOOPBACK (lo); both have 14-byte headers. */
export type LinkType = 'ether' | 'loopback';

/**
 * The Ethernet header a packet arrived with (skb_mac_header): an address is null where the
 * input did not tell it (a capture without link layer, an interface whose address is not known).
 */
export interface EthHeader {
  readonly dest: Uint8Array | null;
  readonly source: Uint8Array | null;
  /** EtherType (h_proto). */
  readonly proto: number;
}

/** IPv4's smallest MTU (RFC 791, ip_mtu_min 68) and the largest natsim's devices take (IP_MAX_MTU is 65535). */
export const MIN_MTU = 68;
export const MAX_MTU = 65535;

/** An MTU a device can have, or null. */
export function deviceMtu(mtu: number): number | null {
  return Number.isInteger(mtu) && mtu >= MIN_MTU && mtu <= MAX_MTU ? mtu : null;
}

/** IGMP_ALL_HOSTS (include/linux/igmp.h): 224.0.0.1. */
export const IGMP_ALL_HOSTS = 0xe0000001;

export class NetDevice {
  readonly addrs: InAddr[] = [];
  /** idev->addr_list */
  readonly addrs6: Inet6Ifaddr[] = [];
  /**
   * in_dev->mc_list: the IPv4 groups the device is in — all-hosts 224.0.0.1, which ip_mc_up joins
   * on every device, and those sockets joined (a snapshot's /proc/net/igmp, a scenario's `groups:`).
   */
  readonly mcList = new Set<number>([IGMP_ALL_HOSTS]);
  /** dev->mtu: Ethernet's 1500 unless told otherwise; loopback's is 65536. */
  mtu = 1500;
  /** netif_is_bridge_master: this device is a bridge (its net_bridge). */
  bridge: Bridge | null = null;
  /** br_port_get_rcu: this device is a port of a bridge, which takes every frame it receives. */
  brPort: BridgePort | null = null;

  constructor(
    readonly index: number,
    readonly name: string,
    /** Which link (segment) the device is plugged into, if any. */
    readonly link: string | null = null,
    /** dev->dev_addr (6 bytes), or null when natsim is not told it. */
    readonly mac: Uint8Array | null = null,
    readonly type: LinkType = 'ether',
  ) {}

  /**
   * __inet_insert_ifa: an address whose subnet (same mask) matches an existing address becomes
   * secondary and goes last; a primary goes after the last primary whose scope is not narrower.
   * Returns an error text for what the kernel refuses (EEXIST, EINVAL).
   */
  addAddress(local: number, prefixLen: number, scope: number): string | null {
    const mask = prefixMask(prefixLen);
    let secondary = false;
    let afterPrimary = 0;
    for (let i = 0; i < this.addrs.length; i++) {
      const a = this.addrs[i]!;
      if (!a.secondary && scope <= a.scope) afterPrimary = i + 1;
      if (prefixMask(a.prefixLen) === mask && inPrefix(local, a.local, prefixLen)) {
        if (a.local === local) return 'address already assigned (EEXIST)';
        if (a.scope !== scope) return 'same subnet with another scope (EINVAL)';
        secondary = true;
      }
    }
    const addr: InAddr = { local, prefixLen, scope, secondary };
    if (secondary) this.addrs.push(addr);
    else this.addrs.splice(afterPrimary, 0, addr);
    return null;
  }

  /** ipv6_add_addr: EEXIST for an address the device has, else in ipv6_link_dev_addr's place. */
  addAddress6(ifa: Inet6Ifaddr): string | null {
    if (this.addrs6.some((a) => a.addr === ifa.addr)) return `${formatIpv6(ifa.addr)}: address already assigned (EEXIST)`;
    ipv6LinkDevAddr(this.addrs6, ifa);
    return null;
  }

  /** Primary addresses in list order. */
  primaries(): InAddr[] {
    return this.addrs.filter((a) => !a.secondary);
  }
}

/** "aa:bb:cc:dd:ee:ff" (as ip link shows a device's address) → its 6 bytes, or null. */
export function parseMac(text: string): Uint8Array | null {
  if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(text)) return null;
  return Uint8Array.from(text.split(':').map((b) => parseInt(b, 16)));
}

/** inet_ifa_match: is `addr` inside the subnet of `ifa`. */
export function ifaMatch(addr: number, ifa: InAddr): boolean {
  return inPrefix(addr, ifa.local, ifa.prefixLen);
}
