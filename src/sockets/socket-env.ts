/** What a socket needs from its host and the world: time, randomness, counters, output. */
import type { Sysctl } from '../host/sysctl.js';
import type { L3Packet } from '../packet/l3-packet.js';
import type { EventQueue } from '../sim/event-queue.js';
import type { Prng } from '../sim/prng.js';
import type { Mib } from './mib.js';
import type { TcpSocket } from './tcp-socket.js';

export interface SocketEnv {
  readonly queue: EventQueue;
  readonly prng: Prng;
  readonly mib: Mib;
  readonly sysctl: Sysctl;
  /** The host's ts_secret (secure_tcp_ts_off's key), drawn once from the run's seed. */
  readonly tsSecret: number;
  /** ip_local_out for a packet the host sends: from the application's socket, or the kernel's (Skb.appSocket). */
  output(pkt: L3Packet, now: number, appSocket: boolean): void;
  /** An application-level outcome worth telling the user ("connect failed: timed out"). */
  log(text: string): void;
  /** The socket is closed: drop it from the host's tables. */
  forget(socket: TcpSocket, why: string): void;
}
