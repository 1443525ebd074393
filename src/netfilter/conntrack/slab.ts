/**
 * Fixed-stride records in one growable ArrayBuffer, read as int32 words, float64s and bytes: the
 * flat storage that stands for the kernel's per-entry allocations (issue 22) — struct nf_conn
 * (conntrack/conn-record.ts) and ct->proto.tcp (conntrack/tcp-slab.ts). Records are reused
 * through a free list threaded through the freed records' first words; the buffer grows by
 * doubling, so a record's number stays valid while its contents move. Each conntrack table and
 * netns has its own slabs (a World's records go with it), so a record number means something
 * only with its slab.
 */

/** End of the free list. */
const NONE = -1;

export class Slab {
  words: Int32Array;
  /** The buffer as float64s: aligned in every record when the record is a whole number of them. */
  doubles: Float64Array;
  bytes: Uint8Array;
  /** Int32 words per record. */
  readonly stride: number;
  /** Records ever handed out (the high-water mark); those below it not in use are on the free list. */
  private used = 0;
  private freeHead = NONE;

  constructor(
    /** Bytes per record, a multiple of 4. */
    readonly recordBytes: number,
    records: number,
    /** A one-record copy made by detach(): its record belongs to no table. */
    readonly detached = false,
  ) {
    if (recordBytes % 4 !== 0) throw new Error(`bug: slab records of ${recordBytes} bytes are not whole int32 words`);
    this.stride = recordBytes / 4;
    const buf = new ArrayBuffer(records * recordBytes);
    this.words = new Int32Array(buf);
    this.doubles = doublesOf(buf);
    this.bytes = new Uint8Array(buf);
  }

  /** Records the buffer holds. */
  get capacity(): number {
    return this.words.length / this.stride;
  }

  /** A zeroed record (the kernel's kzalloc / memset), from the free list if it has one. */
  alloc(): number {
    let row = this.freeHead;
    if (row !== NONE) this.freeHead = this.words[row * this.stride]!;
    else {
      if (this.used === this.capacity) this.grow();
      row = this.used++;
    }
    this.bytes.fill(0, row * this.recordBytes, (row + 1) * this.recordBytes);
    return row;
  }

  /** Gives a record back; its first word links the free list. */
  free(row: number): void {
    this.words[row * this.stride] = this.freeHead;
    this.freeHead = row;
  }

  /**
   * A one-record slab holding a copy of record `row`, which goes back to this slab: how an
   * entry that leaves the table keeps its state for whoever still holds it (the kernel's
   * references outlive nf_ct_delete), while its record is reused.
   */
  detach(row: number): Slab {
    const own = new Slab(this.recordBytes, 1, true);
    own.alloc();
    own.bytes.set(this.bytes.subarray(row * this.recordBytes, (row + 1) * this.recordBytes));
    this.free(row);
    return own;
  }

  private grow(): void {
    const capacity = Math.max(1, this.capacity) * 2;
    const bytes = new Uint8Array(capacity * this.recordBytes);
    bytes.set(this.bytes);
    this.words = new Int32Array(bytes.buffer);
    this.doubles = doublesOf(bytes.buffer);
    this.bytes = bytes;
  }
}

function doublesOf(buf: ArrayBuffer): Float64Array {
  return new Float64Array(buf, 0, buf.byteLength >>> 3);
}
