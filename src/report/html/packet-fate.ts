/** How a packet's way through the node ended, in the words the page uses for it. */
import type { PacketRecord } from './model.js';

export type Fate = { readonly kind: 'sent'; readonly dev: string } | { readonly kind: 'dropped'; readonly reason: string } | { readonly kind: 'local' } | { readonly kind: 'stolen' } | { readonly kind: 'held' };

export function fate(p: PacketRecord): Fate {
  if (p.drop !== null) return { kind: 'dropped', reason: p.drop };
  if (p.outDev !== null) return { kind: 'sent', dev: p.outDev };
  if (p.stolen) return { kind: 'stolen' };
  if (p.local) return { kind: 'local' };
  return { kind: 'held' };
}

export function fateText(f: Fate): string {
  switch (f.kind) {
    case 'sent':
      return `sent on ${f.dev}`;
    case 'dropped':
      return `dropped: ${f.reason}`;
    case 'local':
      return 'delivered to the node itself';
    case 'stolen':
      return 'taken by an op (NF_STOLEN)';
    case 'held':
      return 'no further event (held, or its next hop did not answer)';
  }
}
