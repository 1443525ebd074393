/**
 * The node's own sockets as `ss -tuanpH` printed them (a snapshot's sockets.txt): which
 * addresses and ports its applications listened on or were connected to. A capture replay
 * needs them to tell where a local application addressed a packet before nat OUTPUT changed
 * it (own-output.ts). IPv6 sockets are kept out (natsim replays IPv4) and counted.
 */
import { readTextInput } from '../text-input.js';
import { InputError } from '../errors.js';
import { parseIpv4 } from '../packet/ipv4-addr.js';
import { IPPROTO } from '../netfilter/constants.js';

export interface SocketEnd {
  /** 0 for a wildcard address (0.0.0.0 or *). */
  readonly addr: number;
  /** 0 for a wildcard port (*). */
  readonly port: number;
}

export interface NodeSocket {
  readonly proto: typeof IPPROTO.TCP | typeof IPPROTO.UDP;
  /** ss's State column: LISTEN, ESTAB, TIME-WAIT, UNCONN, … */
  readonly state: string;
  readonly local: SocketEnd;
  /** null when the socket has no peer (a listener, an unconnected UDP socket). */
  readonly peer: SocketEnd | null;
}

export interface SocketsRead {
  readonly sockets: NodeSocket[];
  /** Lines kept out, with why (IPv6 sockets, other protocols). */
  readonly skipped: string[];
}

/** One line: Netid State Recv-Q Send-Q Local:Port Peer:Port [Process]. */
export function parseSockets(text: string, file: string): SocketsRead {
  const sockets: NodeSocket[] = [];
  let v6 = 0;
  let other = 0;
  text.split('\n').forEach((line, i) => {
    const cols = line.trim().split(/\s+/);
    if (cols.length === 1 && cols[0] === '') return;
    if (cols.length < 6) throw new InputError({ file, line: i + 1, col: 1 }, `expected 'NETID STATE RECV-Q SEND-Q LOCAL PEER' as ss -tuanpH prints it`);
    const [netid, state, , , local, peer] = cols as [string, string, string, string, string, string];
    if (netid !== 'tcp' && netid !== 'udp') return void other++;
    if (local.startsWith('[') || peer.startsWith('[')) return void v6++;
    const at = (text: string, what: string): SocketEnd => {
      const end = parseEnd(text);
      if (!end) throw new InputError({ file, line: i + 1, col: line.indexOf(text) + 1 }, `bad ${what} address '${text}' (expected A.B.C.D:PORT, * for any)`);
      return end;
    };
    const l = at(local, 'local');
    const p = at(peer, 'peer');
    sockets.push({ proto: netid === 'tcp' ? IPPROTO.TCP : IPPROTO.UDP, state, local: l, peer: p.addr === 0 && p.port === 0 ? null : p });
  });
  const skipped: string[] = [];
  if (v6 > 0) skipped.push(`${file}: ${v6} IPv6 socket(s) left out (natsim replays IPv4)`);
  if (other > 0) skipped.push(`${file}: ${other} socket(s) of other protocols left out`);
  return { sockets, skipped };
}

export function readSockets(file: string): SocketsRead {
  return parseSockets(readTextInput(file), file);
}

/** "A.B.C.D:P", "0.0.0.0:*", "*:P", "A.B.C.D%dev:P" (ss's bound-device suffix). */
function parseEnd(text: string): SocketEnd | null {
  const colon = text.lastIndexOf(':');
  if (colon < 0) return null;
  const host = text.slice(0, colon).replace(/%.*$/, '');
  const portText = text.slice(colon + 1);
  const port = portText === '*' ? 0 : Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) return null;
  const addr = host === '*' ? 0 : parseIpv4(host);
  return addr === null ? null : { addr, port };
}
