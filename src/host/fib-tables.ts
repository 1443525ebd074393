/**
 * The routing tables of one family as fib_lookup (IPv4) and fib6_lookup (IPv6) search them
 * under the default policy rules: the local table, then main. Each table keeps its routes in the
 * order a lookup prefers them — longest prefix first, then lowest metric, then the one added
 * first (a stable insertion) — and the two tables are also kept as one list in rule order, so a
 * packet's lookup is one scan that stops at the first route matching, local routes first.
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

export abstract class FibTables<R extends TableRoute> {
  private readonly tables = new Map<number, R[]>();
  /** The local table's routes, then main's: the default rules' lookup order. */
  private ruleOrder: readonly R[] = [];

  /** Does `addr` fall in the route's prefix (inet_match_prefix / ipv6_prefix_equal)? */
  protected abstract matches(addr: number, route: R): boolean;

  add(route: R): void {
    let routes = this.tables.get(route.table);
    if (!routes) this.tables.set(route.table, (routes = []));
    let at = routes.length;
    while (at > 0 && preferred(route, routes[at - 1]!)) at--;
    routes.splice(at, 0, route);
    this.ruleOrder = [...this.routesOf(TABLE_LOCAL), ...this.routesOf(TABLE_MAIN)];
  }

  /** A table's routes in lookup order (none for a table never added to). */
  routesOf(table: number): readonly R[] {
    return this.tables.get(table) ?? [];
  }

  /** The lookup with the default rules: the first route of the local table, then of main, that holds `addr`. */
  lookup(addr: number): R | null {
    for (const r of this.ruleOrder) if (this.matches(addr, r)) return r;
    return null;
  }

  /** The lookup in one table alone (inet_addr_type reads the local table). */
  lookupIn(table: number, addr: number): R | null {
    for (const r of this.routesOf(table)) if (this.matches(addr, r)) return r;
    return null;
  }
}

/** Is `a` looked up before `b`: a longer prefix, or the same prefix with a lower metric? */
function preferred(a: TableRoute, b: TableRoute): boolean {
  return a.prefixLen > b.prefixLen || (a.prefixLen === b.prefixLen && a.metric < b.metric);
}
