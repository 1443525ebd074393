/**
 * The NAT "bysource" index (nf_nat_bysource): source-NATed connections by their original
 * source (address, port or id, protocol), so that a source keeps its mapping across
 * destinations (find_appropriate_src). Entries leave it when their connection is destroyed.
 */
import type { Conn } from '../conntrack/conn.js';
import { Dir, type Tuple } from '../conntrack/tuple.js';

export class BySource {
  private readonly index = new Map<string, Conn[]>();

  add(conn: Conn): void {
    const key = sourceKey(conn.tuple[Dir.Original]);
    const list = this.index.get(key);
    if (list) list.unshift(conn); // hlist_add_head_rcu: newest first
    else this.index.set(key, [conn]);
  }

  remove(conn: Conn): void {
    const key = sourceKey(conn.tuple[Dir.Original]);
    const list = this.index.get(key);
    if (!list) return;
    const i = list.indexOf(conn);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.index.delete(key);
  }

  /** Connections whose original source matches `t`'s (same_src), newest first. */
  sameSource(t: Tuple): readonly Conn[] {
    return this.index.get(sourceKey(t)) ?? [];
  }
}

/** Only NAT setup (once per connection) touches this index, so a string key is off the hot path. */
function sourceKey(t: Tuple): string {
  return `${t.proto}/${t.src}/${t.srcU}`;
}
