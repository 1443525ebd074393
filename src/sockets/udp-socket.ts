/**
 * A UDP socket an application sends from (a `udp send` step): bound to its port by bind(), or
 * at its first sendto to an ephemeral one (inet_autobind → udp_v4_get_port). close() takes it
 * out of the port table (udp_lib_unhash), so the port is free again at once: UDP keeps no
 * TIME_WAIT, and a socket that never closed would hold its port for the rest of the run.
 */
import { endpointText, type Endpoint } from './tcp-socket.js';

/** The host's side: its UDP port table, routes and output. */
export interface UdpHost {
  /** A free ephemeral port, bound; null when every port of ip_local_port_range is taken. */
  autobind(): number | null;
  bind(port: number): void;
  unhash(port: number): void;
  /** The source address toward `dst` (0: no route). */
  sourceFor(dst: number): number;
  udpOut(saddr: number, daddr: number, sport: number, dport: number, payload: Uint8Array, now: number): void;
  log(text: string): void;
}

export class UdpSocket {
  private port: number | null = null;

  constructor(
    private readonly host: UdpHost,
    from: number | null,
  ) {
    if (from === null) return;
    host.bind(from);
    this.port = from;
  }

  /** sendto() of `bytes` zero bytes. */
  send(remote: Endpoint, bytes: number, now: number): void {
    const saddr = this.host.sourceFor(remote.addr);
    if (saddr === 0) return this.host.log(`udp send to ${endpointText(remote)}: network unreachable`);
    this.port ??= this.host.autobind();
    if (this.port === null) return this.host.log(`udp send to ${endpointText(remote)}: no free local port (EAGAIN)`);
    this.host.udpOut(saddr, remote.addr, this.port, remote.port, new Uint8Array(bytes), now);
  }

  close(): void {
    if (this.port !== null) this.host.unhash(this.port);
    this.port = null;
  }
}
