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
await readCapture(file, (r) => {
  const pkt = Ipv4Packet.adopt(r.payload); // in place, as the replay takes its packets
  if (typeof pkt === 'string') return;
  decoded++;
  protoSum += pkt.proto; // uses the result, so the decode cannot be optimised away
}, new ChunkPool()); // read as the replay reads: into chunks used again
process.stdout.write(`${JSON.stringify({ packets: decoded, protoSum, maxRssKb: process.resourceUsage().maxRSS })}\n`);
