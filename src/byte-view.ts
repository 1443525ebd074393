/**
 * d[start, end) as a view of the same bytes, as subarray gives it but without subarray's
 * species constructor lookup (TypedArraySpeciesCreate), which makes it over twice as slow: a
 * view is made for every record a capture replay feeds. The range must lie within `d`.
 */
export function byteView(d: Uint8Array, start: number, end: number): Uint8Array {
  return new Uint8Array(d.buffer, d.byteOffset + start, end - start);
}
