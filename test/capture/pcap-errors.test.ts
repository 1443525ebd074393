/** Malformed captures: each is one InputError naming the file, the record and the byte offset. */
import { mkdirSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { readCapture } from '../../src/capture/index.js';
import { readPcap } from '../../src/capture/pcap-reader.js';
import { InputError } from '../../src/errors.js';
import { pcapBytes, rejection, sll2Frame, tempDir, type HandRecord } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.remove());

const frame = sll2Frame({ protocol: 0x0800, ifindex: 2, packetType: 0, payload: new Uint8Array(84).fill(0x45, 0, 1) });
const good: HandRecord[] = [
  { sec: 1, frac: 0, frame },
  { sec: 2, frac: 0, frame },
];
/** Offset of record 3 after two `frame` records. */
const third = 24 + 2 * (16 + frame.length);

/** Reads `bytes` (as a file) with readPcap and with readCapture; both must fail alike. */
async function failure(bytes: Uint8Array) {
  const path = tmp.file('bad.pcap', bytes);
  const viaReader = await rejection(readPcap(path, () => {}));
  const viaDispatch = await rejection(readCapture(path, () => {}));
  expect(viaReader).toBeInstanceOf(InputError);
  expect(viaDispatch).toEqual(viaReader);
  const err = viaReader as InputError;
  expect(err.place.file).toBe(path);
  return { path, place: err.place, reason: err.reason, message: err.message };
}

describe('file header', () => {
  it('bad magic: says what was found, at offset 0', async () => {
    const f = await failure(Buffer.from('GIF89a' + '\0'.repeat(40)));
    expect(f.place).toEqual({ file: f.path, offset: 0 });
    expect(f.reason).toBe("not a pcap capture: magic 0x47494638, expected a1b2c3d4 or a1b23c4d in either byte order, or pcapng's 0a0d0d0a");
  });

  it('empty and tiny files', async () => {
    expect((await failure(new Uint8Array(0))).reason).toBe('file of 0 bytes is too short to be a capture');
    expect((await failure(Uint8Array.of(0xd4, 0xc3))).reason).toBe('file of 2 bytes is too short to be a capture');
  });

  it('truncated file header: at the offset where the file ends', async () => {
    const f = await failure(pcapBytes({ littleEndian: true, linkType: 276 }, []).subarray(0, 10));
    expect(f.place).toEqual({ file: f.path, offset: 10 });
    expect(f.reason).toBe('file ends inside the 24-byte pcap header');
  });

  it('version other than 2.4: at offset 4', async () => {
    const f = await failure(pcapBytes({ littleEndian: false, linkType: 276, version: [2, 3] }, good));
    expect(f.place).toEqual({ file: f.path, offset: 4 });
    expect(f.reason).toBe('unsupported pcap version 2.3; natsim reads 2.4');
  });

  it('unknown link type: names it, at offset 20', async () => {
    const f = await failure(pcapBytes({ littleEndian: true, linkType: 105 }, good));
    expect(f.place).toEqual({ file: f.path, offset: 20 });
    expect(f.reason).toMatch(/^unsupported link type 105; natsim reads Ethernet \(1\)/);
  });
});

describe('records', () => {
  const file = (records: HandRecord[], snaplen?: number) =>
    pcapBytes({ littleEndian: true, linkType: 276, ...(snaplen === undefined ? {} : { snaplen }) }, records);

  it('truncated record header: the record after the last complete one', async () => {
    const f = await failure(file([...good, { sec: 3, frac: 0, frame }]).subarray(0, third + 7));
    expect(f.place).toEqual({ file: f.path, record: 3, offset: third });
    expect(f.reason).toBe('file ends inside the record header (7 of 16 bytes)');
    expect(f.message).toBe(`${f.path} (record 3, byte offset ${third}): file ends inside the record header (7 of 16 bytes)`);
  });

  it('truncated record body', async () => {
    const f = await failure(file([...good, { sec: 3, frac: 0, frame }]).subarray(0, third + 16 + 50));
    expect(f.place).toEqual({ file: f.path, record: 3, offset: third });
    expect(f.reason).toBe(`file ends inside the record body (50 of ${frame.length} bytes)`);
  });

  it('a read the callback stops never reaches the damage beyond (--max-packets on a cut file)', async () => {
    const path = tmp.file('cut.pcap', file([...good, { sec: 3, frac: 0, frame }]).subarray(0, third + 16 + 50));
    let seen = 0;
    const summary = await readPcap(path, () => ++seen < 2);
    expect(seen).toBe(2);
    expect(summary.records).toBe(2);
  });

  it('caplen beyond the snapshot length', async () => {
    const f = await failure(file([...good, { sec: 3, frac: 0, frame }], 100));
    expect(f.place).toEqual({ file: f.path, record: 1, offset: 24 });
    expect(f.reason).toBe('record length 104 exceeds the snapshot length 100');
  });

  it('caplen beyond 262144 whatever the header says, refused without waiting for the body', async () => {
    for (const snaplen of [0, 0xffffffff]) {
      const f = await failure(file([...good, { sec: 3, frac: 0, frame, caplen: 0xfffffff0 }], snaplen));
      expect(f.place).toEqual({ file: f.path, record: 3, offset: third });
      expect(f.reason).toBe(`record length ${0xfffffff0} exceeds the snapshot length 262144`);
    }
  });

  it('a frame too short for its link-layer header', async () => {
    const f = await failure(file([good[0]!, { sec: 2, frac: 0, frame: frame.subarray(0, 12) }]));
    expect(f.place).toEqual({ file: f.path, record: 2, offset: 24 + 16 + frame.length });
    expect(f.reason).toBe('frame shorter than a Linux SLL2 header');
  });
});

describe('other failures', () => {
  it('a missing file is an InputError naming it', async () => {
    const path = tmp.file('missing.pcap');
    const err = (await rejection(readCapture(path, () => {}))) as InputError;
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toBe(`${path}: cannot read: ENOENT: no such file or directory`);
    expect(await rejection(readPcap(path, () => {}))).toEqual(err);
  });

  it('a directory is an InputError naming it', async () => {
    const path = tmp.file('dir');
    mkdirSync(path);
    expect(((await rejection(readCapture(path, () => {}))) as InputError).message).toBe(
      `${path}: cannot read: EISDIR: illegal operation on a directory`,
    );
  });

  it('an error thrown by the callback stops the read and is passed on as it is', async () => {
    const path = tmp.file('ok.pcap', pcapBytes({ littleEndian: true, linkType: 276 }, [...good, ...good]));
    const bug = new TypeError('consumer bug');
    let calls = 0;
    const err = await rejection(
      readPcap(path, () => {
        calls++;
        throw bug;
      }),
    );
    expect(err).toBe(bug);
    expect(calls).toBe(1);
  });
});
