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

/** An NDP message about TARGET as the capture shows it: the host's solicitation going out, or an advertisement coming in. */
function ndp(type: 135 | 136): CaptureRecord {
  const payload = new Uint8Array(72);
  payload[6] = 58;
  payload[40] = type;
  payload.set(ipv6Bytes(TARGET), 48);
  return { payload, direction: type === 135 ? PacketDirection.Outgoing : PacketDirection.Host } as CaptureRecord;
}
const solicitation = (): CaptureRecord => ndp(135);
const advertisement = (): CaptureRecord => ndp(136);

describe('NeighbourWatch', () => {
  it('is connected within 30 s of the advertisement and valid from it on, STALE included', () => {
    const watch = new NeighbourWatch();
    watch.observeNdp(advertisement(), 10e9);
    expect([watch.connected(TARGET, 5e9), watch.answeredBy(TARGET, 5e9)]).toEqual([false, false]);
    expect([watch.connected(TARGET, 20e9), watch.answeredBy(TARGET, 20e9)]).toEqual([true, true]);
    expect([watch.connected(TARGET, 55e9), watch.answeredBy(TARGET, 55e9)]).toEqual([false, true]);
  });

  it('is neither once a round of requests after the answer went unanswered (a probe that failed: NUD_FAILED)', () => {
    const watch = new NeighbourWatch();
    watch.observeNdp(advertisement(), 10e9);
    // a reachability probe 40 s on: three unicast solicitations a second apart, no answer
    for (const at of [40e9, 41.024e9, 42.048e9]) watch.observeNdp(solicitation(), at);
    expect([watch.connected(TARGET, 42.5e9), watch.answeredBy(TARGET, 42.5e9)]).toEqual([false, true]);
    // failed 1.023 s after the third (neighbours.ts): not valid from then on
    expect(watch.answeredBy(TARGET, 43.1e9)).toBe(false);
    // answered again: valid again
    watch.observeNdp(advertisement(), 50e9);
    expect([watch.connected(TARGET, 51e9), watch.answeredBy(TARGET, 51e9)]).toEqual([true, true]);
  });
});
