/**
 * The page's only script: keyboard and mouse selection of a packet, which draws its path
 * through the hook diagram. It is compiled with the rest of natsim and put in the page as the
 * text of this function (Function.prototype.toString), so it must use nothing from outside
 * itself; `PageDocument` types the little of the DOM it touches (natsim compiles without the
 * DOM library).
 */

/** What the script knows of each packet drawn on the page (packet-data.ts writes it). */
export interface ClientPacket {
  readonly title: string;
  readonly steps: readonly ClientStep[];
}

export interface ClientStep {
  readonly kind: 'in' | 'op' | 'route' | 'out' | 'end';
  /** The hook op's data-op key in the diagram (ops only). */
  readonly op: string | null;
  readonly label: string;
  readonly lines: readonly string[];
  /** The op changed the packet or its entry. */
  readonly changed: boolean;
  /** The packet died here. */
  readonly bad: boolean;
}

export interface PageElement {
  textContent: string | null;
  className: string;
  readonly dataset: Record<string, string | undefined>;
  readonly classList: { add(name: string): void; remove(...names: string[]): void; toggle(name: string, on: boolean): boolean };
  setAttribute(name: string, value: string): void;
  removeAttribute(name: string): void;
  addEventListener(type: string, listener: (event: PageEvent) => void): void;
  append(...nodes: PageElement[]): void;
  replaceChildren(...nodes: PageElement[]): void;
  closest(selector: string): PageElement | null;
  scrollIntoView(options: { block: string }): void;
  focus(): void;
}

export interface PageEvent {
  readonly target: PageElement | null;
  preventDefault(): void;
}

export interface PageDocument {
  readonly body: PageElement;
  readonly location: { readonly hash: string };
  getElementById(id: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement>;
  createElement(tag: string): PageElement;
}

export function pageScript(doc: PageDocument): void {
  const packets = JSON.parse(doc.getElementById('packet-data')?.textContent ?? '{}') as Record<string, ClientPacket>;
  const all = (selector: string): PageElement[] => Array.from(doc.querySelectorAll(selector));
  const el = (tag: string, className: string, text: string): PageElement => {
    const e = doc.createElement(tag);
    e.className = className;
    e.textContent = text;
    return e;
  };

  const select = (id: string, scroll: boolean): void => {
    const p = packets[id];
    if (p === undefined) return;
    for (const e of all('[data-pkt]')) {
      const on = e.dataset.pkt === id;
      e.classList.toggle('selected', on);
      if (on) e.setAttribute('aria-current', 'true');
      else e.removeAttribute('aria-current');
    }
    const passed = new Map<string, ClientStep>();
    for (const s of p.steps) if (s.op !== null) passed.set(s.op, s);
    for (const e of all('[data-op]')) {
      const s = passed.get(e.dataset.op ?? '');
      e.classList.toggle('passed', s !== undefined);
      e.classList.toggle('changed', s?.changed === true);
      e.classList.toggle('bad', s?.bad === true);
    }
    doc.getElementById('path-title')!.textContent = p.title;
    doc.getElementById('path-steps')!.replaceChildren(
      ...p.steps.map((s) => {
        const li = el('li', `step ${s.kind}${s.changed ? ' changed' : ''}${s.bad ? ' bad' : ''}`, '');
        li.append(el('span', 'label', s.label), ...s.lines.map((line) => el('span', 'line', line)));
        return li;
      }),
    );
    doc.body.dataset.selected = id;
    if (scroll) doc.getElementById('hooks')?.scrollIntoView({ block: 'start' });
  };

  const picked = (event: PageEvent): string | null => event.target?.closest('[data-pkt]')?.dataset.pkt ?? null;
  // buttons and links: Enter and Space click them, so the keyboard needs nothing more
  doc.body.addEventListener('click', (event) => {
    const id = picked(event);
    if (id === null) return;
    event.preventDefault();
    select(id, event.target?.closest('a') !== null);
  });
  const fromHash = /^#pkt-(\d+)$/.exec(doc.location.hash)?.[1];
  const first = fromHash ?? all('.flow.failed [data-pkt]')[0]?.dataset.pkt ?? all('[data-pkt]')[0]?.dataset.pkt;
  if (first !== undefined) select(first, false);
  doc.body.dataset.ready = 'true';
}
