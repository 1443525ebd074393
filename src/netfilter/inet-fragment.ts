/**
 * What IPv4 and IPv6 reassembly share (net/ipv4/inet_fragment.c): the order fragments are kept
 * in and what counts as a duplicate or an overlap (inet_frag_queue_insert), and the memory a
 * held fragment is accounted for. ip-fragment.ts (ip_frag_queue) and ipv6/nf-conntrack-reasm.ts
 * (nf_ct_frag6_queue) decide the rest for their family.
 */

/** SKB_DATA_ALIGN(sizeof(struct sk_buff)) + SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) on x86_64: a fragment's truesize is its length plus this. */
export const SKB_OVERHEAD = 256 + 320;

/** A fragment's place in its datagram: the offset and end of its data (bytes). */
export interface FragRange {
  readonly offset: number;
  readonly end: number;
}

/**
 * inet_frag_queue_insert: in offset order. Fragments that follow each other without a gap make
 * a run; a fragment that lies inside a run is a duplicate (IPFRAG_DUP), one that overlaps a run
 * in part makes the datagram unusable (IPFRAG_OVERLAP: RFC 5722 for IPv6; IPv4 too since 4.19).
 */
export function fragQueueInsert<F extends FragRange>(list: F[], f: F): 'ok' | 'dup' | 'overlap' {
  for (let i = 0; i < list.length; ) {
    const runStart = list[i]!.offset;
    let j = i;
    while (j + 1 < list.length && list[j + 1]!.offset === list[j]!.end) j++;
    const runEnd = list[j]!.end;
    if (f.end <= runStart) {
      list.splice(i, 0, f);
      return 'ok';
    }
    if (f.offset < runEnd) return f.offset >= runStart && f.end <= runEnd ? 'dup' : 'overlap';
    i = j + 1;
  }
  list.push(f);
  return 'ok';
}
