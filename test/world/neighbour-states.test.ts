/**
 * A capture's neighbour entries as the replay reads them (world/neighbours.ts): NUD_CONNECTED
 * for REACHABLE_NS after an answer, NUD_VALID from the answer on — the redirect's target
 * link-layer address (ndisc_send_redirect) needs only the latter.
 */
import { describe, expect, it } from 'vitest';
import { NeighbourWatch } from '../../src/world/neighbours.js';
import { PacketDirection, type CaptureRecord } from '../../src/capture/record.js';
import { ipv6Bytes, parseIpv6 } from '../../src/packet/ipv6-addr.js';

const TARGET = parseIpv6('fe80::2')!;

/** A neighbour advertisement for TARGET, as the capture shows it coming in. */
function advertisement(): CaptureRecord {
  const payload = new Uint8Array(72);
  payload[6] = 58;
  payload[40] = 136;
  payload.set(ipv6Bytes(TARGET), 48);
  return { payload, direction: PacketDirection.Host } as CaptureRecord;
}

describe('NeighbourWatch', () => {
  it('is connected within 30 s of the advertisement and valid from it on, STALE included', () => {
    const watch = new NeighbourWatch();
    watch.observeNdp(advertisement(), 10e9);
    expect([watch.connected(TARGET, 5e9), watch.answeredBy(TARGET, 5e9)]).toEqual([false, false]);
    expect([watch.connected(TARGET, 20e9), watch.answeredBy(TARGET, 20e9)]).toEqual([true, true]);
    expect([watch.connected(TARGET, 55e9), watch.answeredBy(TARGET, 55e9)]).toEqual([false, true]);
  });
});
