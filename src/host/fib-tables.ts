/**
 * The routing tables of one family as fib_lookup (IPv4) and fib6_lookup (IPv6) search them
 * under the default policy rules: the local table, then main. Each table keeps its routes in the
 * order a lookup prefers them — longest prefix first, then lowest metric, then the one added
 * first (a stable insertion) — and the two tables are also kept as one list in rule order, so a
 * packet's lookup is one scan that stops at the first route matching, local routes first.
 *
 * The kernel walks its trie for every packet (fib_table_lookup's LC-trie, fib6_node_lookup's
 * radix tree), a few steps whatever the table holds. A list is scanned route by route — a
 * forwarded packet's destination passes every local route before main's (ten matches on a
 * two-interface router, two lookups a packet with rp_filter) — so each table keeps the answers
 * it gave in a direct-mapped memo by address, emptied by every change to the routes: the same
 * answers, as lookups read nothing but the routes.
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
  private readonly tables = new Map<number, R[]>();
  /** The local table's routes, then main's: the default rules' lookup order. */
  private ruleOrder: readonly R[] = [];
  /** The address each memo slot answers for (NaN: none; an IPv6 handle fits a double too). */
  private readonly memoAddr = new Float64Array(MEMO_SLOTS).fill(NaN);
  /** lookup()'s answer for memoAddr, slot by slot. */
  private readonly memoRoute: (R | null)[] = new Array<R | null>(MEMO_SLOTS).fill(null);

  /** Does `addr` fall in the route's prefix (inet_match_prefix / ipv6_prefix_equal)? */
  protected abstract matches(addr: number, route: R): boolean;

  add(route: R): void {
    let routes = this.tables.get(route.table);
    if (!routes) this.tables.set(route.table, (routes = []));
    let at = routes.length;
    while (at > 0 && preferred(route, routes[at - 1]!)) at--;
    routes.splice(at, 0, route);
    this.ruleOrder = [...this.routesOf(TABLE_LOCAL), ...this.routesOf(TABLE_MAIN)];
    this.memoAddr.fill(NaN);
  }

  /** A table's routes in lookup order (none for a table never added to). */
  routesOf(table: number): readonly R[] {
    return this.tables.get(table) ?? [];
  }

  /** The lookup with the default rules: the first route of the local table, then of main, that holds `addr`. */
  lookup(addr: number): R | null {
    const slot = memoSlot(addr);
    if (this.memoAddr[slot] === addr) return this.memoRoute[slot] ?? null;
    const route = this.scan(addr);
    this.memoAddr[slot] = addr;
    this.memoRoute[slot] = route;
    return route;
  }

  private scan(addr: number): R | null {
    for (const r of this.ruleOrder) if (this.matches(addr, r)) return r;
    return null;
  }

  /** The lookup in one table alone (inet_addr_type reads the local table). */
  lookupIn(table: number, addr: number): R | null {
    for (const r of this.routesOf(table)) if (this.matches(addr, r)) return r;
    return null;
  }
}

/** An address's memo slot: the top bits of a Fibonacci multiply of its low 32 (an IPv6 handle's are its index). */
function memoSlot(addr: number): number {
  return Math.imul(addr % 0x100000000, 0x9e3779b1) >>> MEMO_SHIFT;
}

/** Is `a` looked up before `b`: a longer prefix, or the same prefix with a lower metric? */
function preferred(a: TableRoute, b: TableRoute): boolean {
  return a.prefixLen > b.prefixLen || (a.prefixLen === b.prefixLen && a.metric < b.metric);
}
