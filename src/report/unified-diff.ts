/**
 * A unified diff of two line lists (longest common subsequence, 3 lines of context), enough to
 * show where a golden output and a new run part ways.
 */
export function unifiedDiff(expected: readonly string[], actual: readonly string[], nameA: string, nameB: string): string[] {
  const ops = diffOps(expected, actual);
  const out = [`--- ${nameA}`, `+++ ${nameB}`];
  const CONTEXT = 3;
  let i = 0;
  while (i < ops.length) {
    if (ops[i]!.kind === ' ') {
      i++;
      continue;
    }
    let start = Math.max(0, i - CONTEXT);
    let end = i;
    // extend the hunk while changes are within 2×CONTEXT of each other
    for (let j = i; j < ops.length; j++) {
      if (ops[j]!.kind !== ' ') end = j;
      else if (j - end > 2 * CONTEXT) break;
    }
    end = Math.min(ops.length - 1, end + CONTEXT);
    const hunk = ops.slice(start, end + 1);
    const a = ops[start]!;
    out.push(`@@ -${a.a + 1},${hunk.filter((o) => o.kind !== '+').length} +${a.b + 1},${hunk.filter((o) => o.kind !== '-').length} @@`);
    for (const o of hunk) out.push(o.kind + o.text);
    i = end + 1;
    start = i;
  }
  return out;
}

interface Op {
  readonly kind: ' ' | '-' | '+';
  readonly text: string;
  /** Line index in expected / actual where this op stands. */
  readonly a: number;
  readonly b: number;
}

function diffOps(x: readonly string[], y: readonly string[]): Op[] {
  const n = x.length;
  const m = y.length;
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i]![j] = x[i] === y[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) ops.push({ kind: ' ', text: x[i]!, a: i++, b: j++ });
    else if (j < m && (i === n || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) ops.push({ kind: '+', text: y[j]!, a: i, b: j++ });
    else ops.push({ kind: '-', text: x[i]!, a: i++, b: j });
  }
  return ops;
}
