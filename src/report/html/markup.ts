/** Building HTML and SVG text safely: every value that came from the input is escaped. */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function esc(text: string | number): string {
  return String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** JSON to put inside <script type="application/json">: nothing in it can end the element. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

/** Virtual time on the page: seconds with microseconds, as the trace's timestamps. */
export function seconds(ns: number): string {
  return `${(ns / 1e9).toFixed(6)} s`;
}

/** "1,234" */
export function count(n: number): string {
  return n.toLocaleString('en-US');
}
