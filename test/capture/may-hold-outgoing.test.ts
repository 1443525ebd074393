/** Which captures can hold what the kernel sent: the replay reads ahead only for those (capture-replay.ts). */
import { afterAll, describe, expect, it } from 'vitest';
import { mayHoldOutgoing } from '../../src/capture/index.js';
import { InputError } from '../../src/errors.js';
import { pcapBytes, tempDir } from './helpers.js';
import { Ng } from './pcapng-helpers.js';

const tmp = tempDir();
afterAll(() => tmp.remove());

describe('mayHoldOutgoing', () => {
  it.each([
    [1, false],
    [101, false],
    [228, false],
    [113, true],
    [276, true],
  ])('classic pcap of link type %i: %s', (linkType, expected) => {
    expect(mayHoldOutgoing(tmp.file('x.pcap', pcapBytes({ littleEndian: true, linkType }, [])))).toBe(expected);
  });

  it('pcapng, whose epb_flags may say outbound on any link type', () => {
    const ng = new Ng(true);
    expect(mayHoldOutgoing(tmp.file('x.pcapng', Buffer.concat([ng.shb(), ng.idb(1)])))).toBe(true);
  });

  it('a pcap header natsim refuses is refused here too', () => {
    expect(() => mayHoldOutgoing(tmp.file('x.pcap', pcapBytes({ littleEndian: true, linkType: 147 }, [])))).toThrow(InputError);
  });
});
