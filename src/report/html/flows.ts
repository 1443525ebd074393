/**
 * The flows section: every flow drawn (the failed ones first, then the busiest), each with its
 * ladder and a table of its packets — the table is the ladder's text equivalent, and its
 * buttons select a packet for the hook diagram — then the failed flows only listed.
 */
import { formatInetAddr } from '../../packet/inet-addr.js';
import { count, esc, seconds } from './markup.js';
import { flowFailed, isClash, type FlowRecord, type PacketRecord } from './model.js';
import { fate, fateText } from './packet-fate.js';
import { ruleText } from './packet-data.js';
import { ladder } from './ladder.js';
import { endpoint, tupleLabel, wireLabel } from './wire-text.js';
import { protoName } from '../../trace/format-common.js';

export function flowTitle(f: FlowRecord): string {
  return `${protoName(f.proto)} ${endpoint(f.orig.src, f.orig.srcU, f.proto)} → ${endpoint(f.orig.dst, f.orig.dstU, f.proto)}`;
}

/** Why a flow counts as failed, in a few words. */
export function failure(f: FlowRecord): string {
  const why: string[] = [];
  if (f.clashes > 0) why.push(`${f.clashes} × insert clash`);
  for (const [reason, n] of f.dropReasons) if (!isClash(reason)) why.push(`${n} × dropped: ${reason}`);
  if (f.created !== null && why.length === 0) why.push('no reply seen');
  if (f.created === null && f.drops > 0) why.push('entry never confirmed');
  return why.join('; ');
}

/** The packets drawn for a flow, in time order. */
export function drawnPackets(f: FlowRecord): PacketRecord[] {
  return [...f.kept].sort((a, b) => a.time - b.time || a.skb - b.skb);
}

export function flowsSection(drawn: readonly FlowRecord[], listedOnly: readonly FlowRecord[], node: string): string {
  const articles = drawn.map((f) => flowArticle(f, node)).join('\n');
  return `<section id="flows" aria-labelledby="flows-h">
<h2 id="flows-h">Flows</h2>
<p>Failed flows first (a packet dropped, an insert clash, or an entry that never saw a reply), then the busiest. Each ladder shows the wire on both sides of the node: the client's side on the left, the server's on the right.</p>
${articles}
${listedOnly.length > 0 ? listed(listedOnly) : ''}
</section>`;
}

function flowArticle(f: FlowRecord, node: string): string {
  const failed = flowFailed(f);
  const packets = drawnPackets(f);
  const h = `flow-${f.index}-h`;
  const more = f.packets > packets.length ? ` (the first ${packets.length} of ${count(f.packets)} drawn)` : '';
  return `<article id="flow-${f.index}" class="flow${failed ? ' failed' : ''}" aria-labelledby="${h}">
<h3 id="${h}">Flow ${f.index}: ${esc(flowTitle(f))}${failed ? ` <span class="badge bad">failed: ${esc(failure(f))}</span>` : ''}</h3>
<dl class="facts">
<dt>packets</dt><dd>${count(f.packets)}${esc(more)}, ${count(f.bytes)} bytes, ${seconds(f.first)} to ${seconds(f.last)}</dd>
<dt>conntrack entry</dt><dd>${esc(entryText(f))}</dd>
${f.reply ? `<dt>reply tuple</dt><dd><code>${esc(tupleLabel(f.reply))}</code></dd>` : ''}
<dt>states</dt><dd>${f.states.length ? esc(f.states.map((s) => `${s.state} at ${seconds(s.time)}`).join(', ')) : 'none recorded'}</dd>
</dl>
${ladder(f, packets, node)}
${packetTable(f, packets)}
</article>`;
}

function entryText(f: FlowRecord): string {
  if (f.created === null) return f.drops > 0 ? 'never confirmed (every packet died before nf_confirm)' : 'none (untracked)';
  return `confirmed at ${seconds(f.created)}, ${f.destroyed === null ? 'still in the table when the run ended' : `destroyed at ${seconds(f.destroyed)}`}`;
}

function packetTable(f: FlowRecord, packets: readonly PacketRecord[]): string {
  const rows = packets
    .map((p) => {
      const end = fate(p);
      const rules = [...new Set(p.ops.flatMap((o) => (o.rule ? [ruleText(o.rule)] : [])))];
      return `<tr id="pkt-${p.skb}" data-pkt="${p.skb}"${end.kind === 'dropped' ? ' class="bad"' : ''}>
<td><button type="button" data-pkt="${p.skb}" aria-label="show the path of packet ${p.skb}">#${p.skb}</button></td><td>${seconds(p.time)}</td><td>${p.direction}</td>
<td>${p.inPkt ? `${esc(p.inDev ?? 'node')}: <code>${esc(wireLabel(p.inPkt))}</code>` : 'made by the node'}</td>
<td>${p.outPkt ? `${esc(p.outDev ?? '')}: <code>${esc(wireLabel(p.outPkt))}</code>` : '—'}</td>
<td>${rules.map((r) => `<code class="rule">${esc(r)}</code>`).join('<br>') || '—'}</td><td>${esc(fateText(end))}</td></tr>`;
    })
    .join('');
  return `<table class="packets"><caption>Packets of flow ${f.index}</caption>
<thead><tr><th scope="col">packet</th><th scope="col">time</th><th scope="col">direction</th><th scope="col">in (as received)</th><th scope="col">out (as sent)</th><th scope="col">rule</th><th scope="col">result</th></tr></thead>
<tbody>${rows}</tbody></table>`;
}

function listed(flows: readonly FlowRecord[]): string {
  const rows = flows
    .map((f) => `<tr><td>${f.index}</td><td><code>${esc(flowTitle(f))}</code></td><td>${formatInetAddr(f.reply?.dst ?? f.orig.src)}</td><td>${count(f.packets)}</td><td>${seconds(f.first)}</td><td>${esc(failure(f))}</td></tr>`)
    .join('');
  return `<h3 id="failed-listed">More failed flows (listed, not drawn)</h3>
<table class="listed"><thead><tr><th scope="col">flow</th><th scope="col">original tuple</th><th scope="col">NAT address (reply destination)</th><th scope="col">packets</th><th scope="col">first packet</th><th scope="col">why</th></tr></thead><tbody>${rows}</tbody></table>`;
}
