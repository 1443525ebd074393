/**
 * The routing tables of one family as fib_lookup (IPv4) and fib6_lookup (IPv6) search them
 * under the default policy rules: the local table, then main. Each table keeps its routes in the
 * order a lookup prefers them — longest prefix first, then lowest metric, then the one added
 * first. A table of more than a few routes is indexed by prefix, so that a lookup takes the
 * first route of the longest prefix holding the address, as the kernel's trie finds it
 * (fib_table_lookup's LC-trie, fib6_node_lookup's radix tree), a map lookup per prefix length
 * the table has; a smaller one is scanned in that order.
 *
 * The answers are kept too, in a direct-mapped memo by address emptied by every change to the
 * routes (the same answers, as lookups read nothing but the routes): a forwarded packet's
 * destination and source (rp_filter) are mostly ones met before.
 */

export const TABLE_MAIN = 254;
export const TABLE_LOCAL = 255;

/** What ordering and matching read of a route, in either family. */
export interface TableRoute {
  readonly table: number;
  readonly dst: number;
  readonly prefixLen: number;
  readonly metric: number;
}

/** Slots of a lookup memo (a power of two): a busy router's destinations, a few thousand, fit. */
const MEMO_SLOTS = 4096;
const MEMO_SHIFT = 32 - Math.log2(MEMO_SLOTS);

export abstract class FibTables<R extends TableRoute> {
  /** Each table's routes, in lookup order once settle() has run. */
  private readonly tables = new Map<number, R[]>();
  /**
   * Each table's routes by prefix, for a table of more than SCAN_UP_TO: per prefix length,
   * longest first, the first route in lookup order of each prefix. The kernel's trie finds the
   * longest prefix in a few steps; a scan route by route cost a packet as many matches as the
   * table is long (20,000 routes made a replay 5.7× as long).
   */
  private indexes = new Map<number, PrefixIndex<R>>();
  /** Routes were added since the tables were last sorted and indexed. */
  private unsettled = false;
  /** The address each memo slot answers for (NaN: none; an IPv6 handle fits a double too). */
  private readonly memoAddr = new Float64Array(MEMO_SLOTS).fill(NaN);
  /** lookup()'s answer for memoAddr, slot by slot. */
  private readonly memoRoute: (R | null)[] = new Array<R | null>(MEMO_SLOTS).fill(null);

  /** Does `addr` fall in the route's prefix (inet_match_prefix / ipv6_prefix_equal)? */
  protected abstract matches(addr: number, route: R): boolean;

  /** `addr`'s first `len` bits as a key: two addresses have one key exactly when matches() puts both in a prefix of that length. */
  protected abstract prefixKey(addr: number, len: number): number | string;

  /** Adds a route; the tables are sorted again at the next read (a snapshot's thousands of routes are added at once). */
  add(route: R): void {
    let routes = this.tables.get(route.table);
    if (!routes) this.tables.set(route.table, (routes = []));
    routes.push(route);
    this.unsettled = true;
    this.memoAddr.fill(NaN);
  }

  /** A table's routes in lookup order (none for a table never added to). */
  routesOf(table: number): readonly R[] {
    this.settle();
    return this.tables.get(table) ?? [];
  }

  /** The lookup with the default rules: the first route of the local table, then of main, that holds `addr`. */
  lookup(addr: number): R | null {
    const slot = memoSlot(addr);
    if (this.memoAddr[slot] === addr) return this.memoRoute[slot] ?? null;
    const route = this.lookupIn(TABLE_LOCAL, addr) ?? this.lookupIn(TABLE_MAIN, addr);
    this.memoAddr[slot] = addr;
    this.memoRoute[slot] = route;
    return route;
  }

  /** The lookup in one table alone (inet_addr_type reads the local table). */
  lookupIn(table: number, addr: number): R | null {
    this.settle();
    const index = this.indexes.get(table);
    if (index === undefined) {
      for (const r of this.tables.get(table) ?? []) if (this.matches(addr, r)) return r;
      return null;
    }
    for (let i = 0; i < index.lens.length; i++) {
      const route = index.byPrefix[i]!.get(this.prefixKey(addr, index.lens[i]!));
      if (route !== undefined) return route;
    }
    return null;
  }

  /**
   * Sorts each table in lookup order — longest prefix first, then lowest metric, then the one
   * added first (sort is stable) — and indexes one of more than SCAN_UP_TO routes (a smaller one
   * is scanned: an IPv6 key costs more than matching a few routes).
   */
  private settle(): void {
    if (!this.unsettled) return;
    this.unsettled = false;
    this.indexes = new Map();
    for (const [table, routes] of this.tables) {
      routes.sort((a, b) => b.prefixLen - a.prefixLen || a.metric - b.metric);
      if (routes.length <= SCAN_UP_TO) continue;
      const index: PrefixIndex<R> = { lens: [], byPrefix: [] };
      for (const r of routes) {
        if (index.lens[index.lens.length - 1] !== r.prefixLen) {
          index.lens.push(r.prefixLen);
          index.byPrefix.push(new Map());
        }
        const byPrefix = index.byPrefix[index.byPrefix.length - 1]!;
        const key = this.prefixKey(r.dst, r.prefixLen);
        if (!byPrefix.has(key)) byPrefix.set(key, r);
      }
      this.indexes.set(table, index);
    }
  }
}

/** Routes up to which a table is scanned rather than indexed. */
const SCAN_UP_TO = 16;

/** A table's routes by prefix: `byPrefix[i]` holds the routes of prefix length `lens[i]` (longest first) by their prefix's key. */
interface PrefixIndex<R> {
  readonly lens: number[];
  readonly byPrefix: Map<number | string, R>[];
}

/** An address's memo slot: the top bits of a Fibonacci multiply of its low 32 (an IPv6 handle's are its index). */
function memoSlot(addr: number): number {
  return Math.imul(addr % 0x100000000, 0x9e3779b1) >>> MEMO_SHIFT;
}
