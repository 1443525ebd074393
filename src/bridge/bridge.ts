/**
 * A bridge device and its ports (struct net_bridge, struct net_bridge_port; net/bridge/br_if.c).
 * A port is a device whose frames the bridge takes (its rx_handler, br_handle_frame); the
 * bridge device itself is the host's interface on the segment (docker0, cni0).
 */
import type { NetDevice } from '../host/device.js';
import { Fdb } from './br-fdb.js';

/** BR_DEFAULT_AGEING_TIME: 300 s. */
export const DEFAULT_AGEING_TIME_NS = 300e9;

/** The port flags natsim models (BR_HAIRPIN_MODE, BR_LEARNING, BR_FLOOD), as `ip -d link` shows them. */
export interface PortFlags {
  readonly hairpin: boolean;
  readonly learning: boolean;
  readonly flood: boolean;
}

export const DEFAULT_PORT_FLAGS: PortFlags = { hairpin: false, learning: true, flood: true };

export class BridgePort {
  constructor(
    readonly br: Bridge,
    readonly dev: NetDevice,
    readonly flags: PortFlags,
  ) {}
}

export class Bridge {
  readonly ports: BridgePort[] = [];
  readonly fdb: Fdb;

  constructor(
    readonly dev: NetDevice,
    ageingTime: number,
  ) {
    this.fdb = new Fdb(ageingTime);
    if (dev.mac) this.fdb.addLocal(dev.mac, null);
    dev.bridge = this;
  }

  /** br_add_if: the device becomes a port; its own address is a local entry (fdb_add_local). */
  addPort(dev: NetDevice, flags: PortFlags): BridgePort {
    const port = new BridgePort(this, dev, flags);
    this.ports.push(port);
    dev.brPort = port;
    if (dev.mac) this.fdb.addLocal(dev.mac, port);
    return port;
  }
}
