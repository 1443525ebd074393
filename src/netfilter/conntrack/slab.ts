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

/** Records per detached slab (detach). */
const AFTERLIFE_RECORDS = 64;

/** A record of a slab: where detach() put a copy. */
export interface SlabRecord {
  readonly slab: Slab;
  readonly row: number;
}

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
  /** The detached slab the next record detach() copies goes to (null until the first). */
  private afterlife: Slab | null = null;

  constructor(
    /** Bytes per record, a multiple of 4. */
    readonly recordBytes: number,
    records: number,
    /** Holds copies made by detach(): its records belong to no table and are never freed. */
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
   * Frees record `row` after copying it out, and tells where the copy is: how an entry that
   * leaves the table keeps its state for whoever still holds it (the kernel's references
   * outlive nf_ct_delete), while its record is reused. The copies fill detached slabs of
   * AFTERLIFE_RECORDS records in turn, so an entry's death does not allocate a buffer of its
   * own (one per death was 5% of a replay's CPU); a full one lives on as long as an entry
   * copied into it is held, and goes with the last.
   */
  detach(row: number): SlabRecord {
    let into = this.afterlife;
    if (into === null || into.used === into.capacity) this.afterlife = into = new Slab(this.recordBytes, AFTERLIFE_RECORDS, true);
    const copy = into.used++;
    const from = this.words;
    const to = into.words;
    const src = row * this.stride;
    const dst = copy * this.stride;
    for (let i = 0; i < this.stride; i++) to[dst + i] = from[src + i]!;
    this.free(row);
    return { slab: into, row: copy };
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
