/**
 * The bridge's forwarding database (net/bridge/br_fdb.c): which port each Ethernet address was
 * last seen on. Local entries (the ports' and the bridge's own addresses) send a frame up the
 * stack; learned ones age out `ageing_time` after they were last refreshed (has_expired).
 */
import type { BridgePort } from './bridge.js';

/** A 6-byte Ethernet address as one number (48 bits fit a double exactly): the table's key. */
export function macKey(mac: Uint8Array): number {
  return ((mac[0]! * 256 + mac[1]!) * 65536 + ((mac[2]! << 8) | mac[3]!)) * 65536 + ((mac[4]! << 8) | mac[5]!);
}

/** is_multicast_ether_addr: the group bit of the first byte (broadcast included). */
export function isMulticastEther(mac: Uint8Array): boolean {
  return (mac[0]! & 1) === 1;
}

/** Why a group address floods: the broadcast address, or another group. */
export function groupFlood(mac: Uint8Array): 'broadcast' | 'multicast' {
  return mac.every((b) => b === 0xff) ? 'broadcast' : 'multicast';
}

/** is_valid_ether_addr: neither a group address nor all zeros (br_handle_frame drops others). */
export function isValidEther(mac: Uint8Array): boolean {
  return !isMulticastEther(mac) && mac.some((b) => b !== 0);
}

/** struct net_bridge_fdb_entry: a null port is the bridge device's own address. */
export interface FdbEntry {
  readonly mac: Uint8Array;
  port: BridgePort | null;
  /** BR_FDB_LOCAL: frames for it go up the stack (br_pass_frame_up). */
  readonly local: boolean;
  /** BR_FDB_STATIC: never ages (local entries are static too). */
  readonly static: boolean;
  /** fdb->updated (ns): when a frame from it last arrived. */
  updated: number;
}

/** What br_fdb_update did with a frame's source address. */
export type FdbLearn = 'learned' | 'moved' | 'refreshed' | 'own-address';

export class Fdb {
  private readonly entries = new Map<number, FdbEntry>();

  constructor(
    /** br->ageing_time (ns): BR_DEFAULT_AGEING_TIME is 300 s. */
    readonly ageingTime: number,
  ) {}

  /** fdb_add_local: a port's (or, with null, the bridge's) own address; the first one stays. */
  addLocal(mac: Uint8Array, port: BridgePort | null): void {
    const key = macKey(mac);
    if (!this.entries.has(key)) this.entries.set(key, { mac: Uint8Array.from(mac), port, local: true, static: true, updated: 0 });
  }

  /** has_expired: a learned entry not refreshed within ageing_time is no longer used. */
  expired(entry: FdbEntry, now: number): boolean {
    return !entry.static && entry.updated + this.ageingTime <= now;
  }

  /** br_fdb_find_rcu as br_handle_frame_finish uses it: an entry past its age counts as none. */
  find(mac: Uint8Array, now: number): FdbEntry | null {
    const entry = this.entries.get(macKey(mac));
    return entry === undefined || this.expired(entry, now) ? null : entry;
  }

  /**
   * br_fdb_update: the source address of a frame that came in on `port` is there now. A local
   * address is left alone (the kernel warns "received packet on … with own address as source
   * address"); an expired entry is taken over as if new, as br_fdb_cleanup would have deleted it.
   */
  update(port: BridgePort, mac: Uint8Array, now: number): FdbLearn {
    const key = macKey(mac);
    const entry = this.entries.get(key);
    if (entry?.local) return 'own-address';
    if (entry === undefined || this.expired(entry, now)) {
      this.entries.set(key, { mac: Uint8Array.from(mac), port, local: false, static: false, updated: now });
      return 'learned';
    }
    entry.updated = now;
    if (entry.port === port) return 'refreshed';
    entry.port = port;
    return 'moved';
  }
}
