/**
 * Copies of frames the replay holds for a few seconds (its lookahead), packed into shared
 * 1 MiB slabs: a window of tens of thousands of frames then costs a few slabs instead of one
 * small ArrayBuffer each, which the allocator would scatter (RSS grew by 130 MB per 300,000
 * packets that way). A slab is freed once no frame in it is held any longer.
 */
const SLAB_BYTES = 1 << 20;

export class SlabCopier {
  private slab = new Uint8Array(SLAB_BYTES);
  private used = 0;

  /** A copy of `bytes` that stays valid after the reader reuses its buffer. */
  copy(bytes: Uint8Array): Uint8Array {
    if (this.used + bytes.length > this.slab.length) {
      this.slab = new Uint8Array(Math.max(SLAB_BYTES, bytes.length));
      this.used = 0;
    }
    const view = this.slab.subarray(this.used, this.used + bytes.length);
    view.set(bytes);
    this.used += bytes.length;
    return view;
  }
}
