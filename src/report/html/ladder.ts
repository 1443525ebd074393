/**
 * View 2: a flow's ladder (sequence) diagram — client, node and server as columns, each packet
 * an arrow on each side of the node labelled with the addresses and ports the wire carried
 * there, so NAT shows as the label changing across the node. The SVG is for the eye: its
 * aria-label says what it shows, and the flow's packet table (flows.ts) is the same in text.
 */
import { formatInetAddr } from '../../packet/inet-addr.js';
import { esc } from './markup.js';
import type { FlowRecord, PacketRecord } from './model.js';
import { fate } from './packet-fate.js';
import { wireLabel } from './wire-text.js';

const WIDTH = 1000;
/** Columns far enough apart for a label of ports, flags and an ICMP id on each side of the node. */
const X = { time: 8, client: 110, node: 500, server: 890 } as const;
const TOP = 56;
const ROW = 40;

export function ladder(flow: FlowRecord, packets: readonly PacketRecord[], node: string): string {
  const height = TOP + packets.length * ROW + 10;
  const server = flow.reply && flow.reply.src !== flow.orig.dst ? `${formatInetAddr(flow.orig.dst)} (really ${formatInetAddr(flow.reply.src)})` : formatInetAddr(flow.orig.dst);
  const heads = [
    [X.client, `client ${formatInetAddr(flow.orig.src)}`],
    [X.node, `node ${node}`],
    [X.server, `server ${server}`],
  ] as const;
  const marker = `ah-${flow.index}`;
  const lines = heads.map(([x, label]) => `<text x="${x}" y="20" class="col">${esc(label)}</text><line x1="${x}" y1="30" x2="${x}" y2="${height - 4}" class="life"/>`).join('');
  const rows = packets.map((p, i) => arrows(p, TOP + i * ROW, marker)).join('');
  const label = `Ladder diagram of flow ${flow.index}: ${packets.length} packets between client ${formatInetAddr(flow.orig.src)}, node ${node} and server ${formatInetAddr(flow.orig.dst)}; the table after it lists the same packets.`;
  return `<svg class="ladder" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" role="img" aria-label="${esc(label)}">
<defs><marker id="${marker}" viewBox="0 0 10 10" refX="10" refY="5" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z"/></marker></defs>
${lines}${rows}</svg>`;
}

/** The packet's arrows: in to the node on one side, out of it on the other. */
function arrows(p: PacketRecord, y: number, marker: string): string {
  const [near, far] = p.direction === 'original' ? [X.client, X.server] : [X.server, X.client];
  const end = fate(p);
  let body = `<text x="${X.time}" y="${y + 4}" class="t">${(p.time / 1e9).toFixed(6)}</text>`;
  if (p.inPkt !== null && p.inDev !== null) body += arrow(near, X.node, y, wireLabel(p.inPkt), marker, end.kind === 'dropped' ? 'in dropped' : 'in');
  if (p.outPkt !== null) body += arrow(X.node, far, y, wireLabel(p.outPkt), marker, 'out');
  if (end.kind === 'dropped') body += `<text x="${X.node}" y="${y + 5}" class="x">✕</text><text x="${X.node + 14}" y="${y + 16}" class="why">${esc(shorten(end.reason))}</text>`;
  if (end.kind === 'local') body += `<text x="${X.node + 8}" y="${y + 16}" class="why">delivered to the node</text>`;
  return `<g class="pkt" data-pkt="${p.skb}"><title>${esc(`packet ${p.skb}: ${p.inPkt ? wireLabel(p.inPkt) : 'made by the node'}${p.outPkt ? ` → ${wireLabel(p.outPkt)}` : ''}`)}</title>${body}</g>`;
}

function arrow(x1: number, x2: number, y: number, label: string, marker: string, cls: string): string {
  const mid = (x1 + x2) / 2;
  return `<line x1="${x1}" y1="${y}" x2="${x2}" y2="${y}" class="${cls}" marker-end="url(#${marker})"/><text x="${mid}" y="${y - 6}" class="lbl">${esc(label)}</text>`;
}

function shorten(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}
