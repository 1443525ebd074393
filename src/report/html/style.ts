/** The page's style sheet (inline: the page opens offline). */
import { STATE_ORDER } from './conntrack-timeline.js';

/** A colour per conntrack state: warm while opening, green established, greys closing. */
const STATE_COLOUR: Record<(typeof STATE_ORDER)[number], string> = {
  SYN_SENT: '#f4a259',
  SYN_SENT2: '#f4a259',
  SYN_RECV: '#f6d55c',
  ESTABLISHED: '#3caea3',
  FIN_WAIT: '#7fb3d5',
  CLOSE_WAIT: '#5d8aa8',
  LAST_ACK: '#9b8ec4',
  TIME_WAIT: '#a0a0a0',
  CLOSE: '#606060',
  UNREPLIED: '#ed553b',
  REPLIED: '#20639b',
  ASSURED: '#3caea3',
};

export function styleSheet(): string {
  const states = STATE_ORDER.map((s) => `.st-${s}{fill:${STATE_COLOUR[s]};background:${STATE_COLOUR[s]}}`).join('\n');
  return `body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;padding:0 1.5em 3em;max-width:1240px;color:#1d1d1d;background:#fff}
h1{font-size:1.6em;margin:.8em 0 .2em}h2{border-bottom:2px solid #ccc;margin-top:2em}
code{font:12px ui-monospace,monospace}
nav ul{display:flex;gap:1.2em;list-style:none;padding:0}
.leftout{background:#fff8e1;border:1px solid #e0c060;padding:.5em 1em}
.badge{font-size:.75em;padding:.1em .5em;border-radius:.8em;background:#eee}.badge.bad{background:#fde0dc;color:#9b1c1c}
.hookmap{display:grid;gap:6px;align-items:start;grid-template-columns:44px minmax(230px,1.3fr) 26px 130px 26px minmax(180px,1fr) 26px minmax(230px,1.3fr) 44px;
grid-template-areas:"a-in pre a-pre route a-fwd fwd a-f2p post a-post" ". . . a-lin . . . a-lout ." ". . lin lin lin lin . lout ." ". . . a-local . . . . ." ". . proc proc proc proc proc proc ."}
.hook,.routing,.process{border:2px solid #555;border-radius:6px;padding:.3em .6em;background:#fafafa}
.hook h3,.routing h3,.process h3{margin:.1em 0 .3em;font-size:1em}.routing{border-style:dashed;text-align:center}.process{text-align:center;background:#f0f0f0}
.hook ol{margin:0;padding-left:1.2em}.hook li{font:12px ui-monospace,monospace;padding:1px 3px;border:2px solid transparent;border-radius:3px}
.hook li.passed{border-color:#1f77b4}.hook li.changed{background:#d6eaff}.hook li.bad{background:#fde0dc;border-color:#c62828}
.prio{display:inline-block;min-width:5.8em;color:#555}.hook li{white-space:nowrap}
.arrow{font-size:22px;text-align:center;color:#555}.arrow small{display:block;font-size:10px}
#path{border:1px solid #bbb;border-radius:6px;padding:.2em 1em;margin-top:1em;background:#fcfcff}
#path-steps .label{font-weight:600;display:block}#path-steps .line{display:block;font:12px ui-monospace,monospace;white-space:pre-wrap;margin-left:1em}
#path-steps .changed .label{color:#0b5394}#path-steps .bad .label{color:#b71c1c}
.flow{border-left:4px solid #3caea3;padding-left:1em;margin:1.5em 0}.flow.failed{border-left-color:#c62828}
.facts{display:grid;grid-template-columns:max-content 1fr;gap:.1em 1em}.facts dt{font-weight:600}.facts dd{margin:0}
svg text{font:11px system-ui,sans-serif}
.ladder .col{font-weight:600;text-anchor:middle}.ladder .life{stroke:#999;stroke-dasharray:4 3}
.ladder line.in,.ladder line.out{stroke:#1f4e79;stroke-width:1.6}.ladder line.dropped{stroke:#c62828}.ladder .lbl{text-anchor:middle;font:11px ui-monospace,monospace}
.ladder .x{fill:#c62828;font-size:16px;text-anchor:middle}.ladder .why{fill:#9b1c1c;font-size:10px}.ladder .t{fill:#666;font:10px ui-monospace,monospace}
.ladder .pkt{cursor:pointer}.ladder .pkt.selected line{stroke-width:3.5}.ladder .pkt.selected .lbl{font-weight:700}
table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top}caption{text-align:left;font-weight:600}
tr.bad td{background:#fff0ee}tr.selected td{outline:2px solid #1f77b4}
button{font:inherit;cursor:pointer}:focus-visible{outline:3px solid #ff9800;outline-offset:1px}
.timeline .rl{font:11px ui-monospace,monospace}.timeline .tick{stroke:#eee}.timeline .tl{text-anchor:middle;fill:#666}
.mark{font-size:12px;text-anchor:middle}.mark.clash{fill:#b71c1c}.mark.drop{fill:#000}
.legend{display:flex;flex-wrap:wrap;gap:.8em;list-style:none;padding:0}.sw{display:inline-block;width:1em;height:1em;margin-right:.3em;vertical-align:middle}
.stats .axis{stroke:#444}.stats .yl{text-anchor:end}.stats .tl{text-anchor:middle}
.finding.problem strong{color:#b71c1c}.finding.warning strong{color:#8a5a00}
${states}`;
}
