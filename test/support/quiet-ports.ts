/**
 * HostPorts for a host built on its own (no world, no capture): nothing is delivered or timed,
 * every neighbour is resolved (`connected`) with no link address known, and what the host
 * transmits goes to `transmit` if given.
 */
import type { HostPorts } from '../../src/host/host.js';

export function quietPorts(transmit: HostPorts['transmit'] = () => undefined, connected = true): HostPorts {
  return {
    transmit,
    waitsOnNeighbour: () => false,
    deliver: () => undefined,
    neighbour: () => ({ mac: null, connected }),
    validNeighbour: () => null,
    timer: () => undefined,
  };
}
