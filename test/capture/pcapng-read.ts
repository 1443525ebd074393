/** Reads any capture into plain copies of its records (readCapture, either format). */
import { readCapture } from '../../src/capture/index.js';
import type { KeptRecord } from './helpers.js';

export async function records(path: string): Promise<KeptRecord[]> {
  const out: KeptRecord[] = [];
  await readCapture(path, (r) => {
    out.push({ index: r.index, offset: r.offset, sec: r.sec, nsec: r.nsec, ifindex: r.ifindex, direction: r.direction, protocol: r.protocol, payload: Uint8Array.from(r.payload) });
  });
  return out;
}
