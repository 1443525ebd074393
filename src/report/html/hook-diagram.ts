/**
 * View 1: the host's netfilter hooks as the kernel runs them — PRE_ROUTING, the routing
 * decision, FORWARD or LOCAL_IN, LOCAL_OUT, POST_ROUTING — each with its registered ops in
 * priority order (HookTable, as nf_hook_entries_grow orders them), and the selected packet's
 * path through them, which the page script fills in. The boxes are HTML lists under headings,
 * so a screen reader reads the diagram as what it is.
 */
import { Hook } from '../../netfilter/constants.js';
import { esc } from './markup.js';
import type { HookOpInfo } from './model.js';
import { hookName, opKey } from './packet-data.js';

/** Grid areas of the diagram (style.ts lays them out). */
const AREA: Record<Hook, string> = {
  [Hook.PreRouting]: 'pre',
  [Hook.LocalIn]: 'lin',
  [Hook.Forward]: 'fwd',
  [Hook.LocalOut]: 'lout',
  [Hook.PostRouting]: 'post',
};

const HOOK_ORDER: readonly Hook[] = [Hook.PreRouting, Hook.Forward, Hook.PostRouting, Hook.LocalIn, Hook.LocalOut];

export function hookDiagram(host: string, ops: readonly HookOpInfo[]): string {
  const boxes = HOOK_ORDER.map((hook) => hookBox(hook, ops.filter((o) => o.hook === hook))).join('');
  const arrows = [
    ['a-in', '→', 'a packet arrives'],
    ['a-pre', '→', ''],
    ['a-fwd', '→', ''],
    ['a-f2p', '→', ''],
    ['a-post', '→', 'the packet leaves'],
    ['a-lin', '↓', ''],
    ['a-local', '↓', ''],
    ['a-lout', '↑', ''],
  ]
    .map(([area, arrow, label]) => `<div class="arrow" style="grid-area:${area}" aria-hidden="true">${arrow}${label ? `<small>${label}</small>` : ''}</div>`)
    .join('');
  return `<section id="hooks" aria-labelledby="hooks-h">
<h2 id="hooks-h">Netfilter hooks of ${esc(host)}</h2>
<p>Each box is a hook with the ops registered on it, in the order they run (priority, then the kernel function or the chain). Select a packet — in a flow below, with the mouse or Tab and Enter — to draw its way through them: ops it met are outlined, ops that rewrote it or its conntrack entry filled, the op that dropped it red.</p>
<div class="hookmap" role="group" aria-label="hook diagram: PRE_ROUTING, then the routing decision, then FORWARD and POST_ROUTING for a forwarded packet, or LOCAL_IN to the node itself; the node's own packets go through LOCAL_OUT and POST_ROUTING">
${boxes}
<div class="routing" style="grid-area:route"><h3>routing decision</h3><p>forward, or deliver to the node</p></div>
<div class="process" style="grid-area:proc"><h3>the node's own sockets and stack</h3></div>
${arrows}
</div>
<section id="path" aria-labelledby="path-h" aria-live="polite">
<h3 id="path-h">Selected packet</h3>
<p id="path-title">No packet selected.</p>
<ol id="path-steps"></ol>
</section>
</section>`;
}

function hookBox(hook: Hook, ops: readonly HookOpInfo[]): string {
  const items = ops.length === 0 ? '<li class="none">no ops registered</li>' : ops.map((o) => `<li data-op="${esc(opKey(o.hook, o.priority, o.op))}"><span class="prio">${o.priority}</span> ${esc(o.op)}</li>`).join('');
  return `<div class="hook" style="grid-area:${AREA[hook]}"><h3>${hookName(hook)}</h3><ol>${items}</ol></div>`;
}
