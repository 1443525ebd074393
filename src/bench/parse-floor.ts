/**
 * Case (a), run as its own process: the least any replay must do — read every record and
 * decode its IPv4 header — with no conntrack, routing or NAT. The other cases are compared to
 * this floor. Prints one JSON line: packets decoded and peak RSS (process.resourceUsage, for
 * machines without /usr/bin/time).
 */
import { ChunkPool, readCapture } from '../capture/index.js';
import { Ipv4Packet } from '../packet/ipv4.js';

const file = process.argv[2];
if (!file) throw new Error('usage: parse-floor FILE.pcap');
let decoded = 0;
let protoSum = 0;
let spare: Ipv4Packet | null = null;
await readCapture(file, (r) => {
  // in place and into the last record's packet, as the replay takes its packets
  const pkt = Ipv4Packet.adopt(r.payload, spare);
  if (typeof pkt === 'string') return;
  spare = pkt;
  decoded++;
  protoSum += pkt.proto; // uses the result, so the decode cannot be optimised away
}, new ChunkPool()); // read as the replay reads: into chunks used again
process.stdout.write(`${JSON.stringify({ packets: decoded, protoSum, maxRssKb: process.resourceUsage().maxRSS })}\n`);
