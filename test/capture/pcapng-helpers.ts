/**
 * A hand-rolled pcapng builder for tests, in either byte order and independent of PcapngWriter
 * (so that the reader is not only checked against natsim's own writer): blocks are assembled
 * field by field from the specification's layouts.
 */
export interface Opt {
  code: number;
  value: Uint8Array;
}

export class Ng {
  constructor(readonly le: boolean) {}

  u16(v: number): Buffer {
    const b = Buffer.alloc(2);
    if (this.le) b.writeUInt16LE(v);
    else b.writeUInt16BE(v);
    return b;
  }

  u32(v: number): Buffer {
    const b = Buffer.alloc(4);
    if (this.le) b.writeUInt32LE(v >>> 0);
    else b.writeUInt32BE(v >>> 0);
    return b;
  }

  i64(v: bigint): Buffer {
    const b = Buffer.alloc(8);
    if (this.le) b.writeBigInt64LE(v);
    else b.writeBigInt64BE(v);
    return b;
  }

  options(opts: readonly Opt[]): Buffer {
    if (opts.length === 0) return Buffer.alloc(0);
    const parts = opts.map((o) => Buffer.concat([this.u16(o.code), this.u16(o.value.length), Buffer.from(o.value), Buffer.alloc(pad(o.value.length))]));
    return Buffer.concat([...parts, Buffer.alloc(4)]);
  }

  /** A block of `type` around `body` (padded to 4), with both length fields. */
  block(type: number, body: Uint8Array, lengths?: { head?: number; tail?: number }): Buffer {
    const padded = Buffer.concat([Buffer.from(body), Buffer.alloc(pad(body.length))]);
    const length = padded.length + 12;
    return Buffer.concat([this.u32(type), this.u32(lengths?.head ?? length), padded, this.u32(lengths?.tail ?? length)]);
  }

  shb(opts: readonly Opt[] = [], version: [number, number] = [1, 0]): Buffer {
    return this.block(0x0a0d0d0a, Buffer.concat([this.u32(0x1a2b3c4d), this.u16(version[0]), this.u16(version[1]), this.i64(-1n), this.options(opts)]));
  }

  idb(linkType: number, snaplen = 262144, opts: readonly Opt[] = []): Buffer {
    return this.block(1, Buffer.concat([this.u16(linkType), this.u16(0), this.u32(snaplen), this.options(opts)]));
  }

  /** An EPB with a 64-bit timestamp in the interface's units. */
  epb(iface: number, ts: bigint, data: Uint8Array, opts: readonly Opt[] = [], caplen = data.length): Buffer {
    return this.block(
      6,
      Buffer.concat([this.u32(iface), this.u32(Number(ts >> 32n)), this.u32(Number(ts & 0xffffffffn)), this.u32(caplen), this.u32(data.length), Buffer.from(data), Buffer.alloc(pad(data.length)), this.options(opts)]),
    );
  }

  opb(iface: number, ts: bigint, data: Uint8Array, opts: readonly Opt[] = []): Buffer {
    return this.block(
      2,
      Buffer.concat([this.u16(iface), this.u16(0), this.u32(Number(ts >> 32n)), this.u32(Number(ts & 0xffffffffn)), this.u32(data.length), this.u32(data.length), Buffer.from(data), Buffer.alloc(pad(data.length)), this.options(opts)]),
    );
  }

  spb(originalLength: number, data: Uint8Array): Buffer {
    return this.block(3, Buffer.concat([this.u32(originalLength), Buffer.from(data)]));
  }

  flags(v: number): Opt {
    return { code: 2, value: this.u32(v) };
  }

  tsoffset(seconds: bigint): Opt {
    return { code: 14, value: this.i64(seconds) };
  }
}

export function tsresol(byte: number): Opt {
  return { code: 9, value: Uint8Array.of(byte) };
}

export function ifName(name: string): Opt {
  return { code: 2, value: Buffer.from(name) };
}

function pad(n: number): number {
  return (4 - (n % 4)) % 4;
}

/** A minimal IPv4 header (20 bytes, protocol 17) followed by `extra` bytes, for frames. */
export function ipv4(extra = 8): Uint8Array {
  const b = new Uint8Array(20 + extra);
  b[0] = 0x45;
  b[3] = 20 + extra;
  b[9] = 17;
  return b;
}

/** An Ethernet frame carrying `payload` (EtherType IPv4), from `src` to `dst`. */
export function ethFrame(payload: Uint8Array, src = [2, 0, 0, 0, 0, 1], dst = [2, 0, 0, 0, 0, 2]): Uint8Array {
  return Uint8Array.from([...dst, ...src, 0x08, 0x00, ...payload]);
}
