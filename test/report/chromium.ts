/**
 * Debian's chromium, headless, for the tests that look at `natsim report`'s page as a person
 * would: --dump-dom (the DOM after the page's script ran), --screenshot, and a page driven
 * over the DevTools protocol on a pipe (--remote-debugging-pipe: NUL-separated JSON on fds 3
 * and 4), to press keys. Each browser gets a profile folder of its own, so runs never share one.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** Fails (never skips) without the browser: the page's test is the only look at the page. */
export function requireChromium(): void {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: the natsim report page test needs Debian's chromium (.ci/run installs it; by hand: apt-get install -y chromium)`);
}

function flags(profile: string): string[] {
  return ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-extensions', '--disable-breakpad', '--disable-crash-reporter', `--user-data-dir=${profile}`];
}

function withProfile<T>(run: (profile: string) => T): T {
  const profile = mkdtempSync(join(tmpdir(), 'natsim-chromium-'));
  try {
    return run(profile);
  } finally {
    removeProfile(profile);
  }
}

/**
 * Chromium's helper processes (crashpad, renderers) may still be writing in the profile when the
 * browser process has exited: retry on ENOTEMPTY, as rmSync's maxRetries does, instead of failing.
 */
function removeProfile(profile: string): void {
  rmSync(profile, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 });
}

/** The DOM once the page loaded and its scripts ran. */
export function dumpDom(file: string): string {
  return withProfile((profile) => {
    const r = spawnSync(CHROMIUM, [...flags(profile), '--dump-dom', `file://${file}`], { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`chromium --dump-dom exited ${r.status}: ${r.stderr}`);
    return r.stdout;
  });
}

export function screenshot(file: string, png: string, width: number, height: number): void {
  withProfile((profile) => {
    const r = spawnSync(CHROMIUM, [...flags(profile), `--window-size=${width},${height}`, '--hide-scrollbars', `--screenshot=${png}`, `file://${file}`], { encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0) throw new Error(`chromium --screenshot exited ${r.status}: ${r.stderr}`);
  });
}

interface Reply {
  readonly id?: number;
  readonly result?: Record<string, unknown>;
  readonly error?: { readonly message: string };
}

/** A page in a headless chromium driven over the DevTools protocol. */
export class Page {
  private nextId = 1;
  private buffer = '';
  private readonly waiting = new Map<number, (reply: Reply) => void>();
  private session = '';

  private constructor(
    private readonly child: ChildProcess,
    private readonly profile: string,
  ) {
    (child.stdio[4] as Readable).on('data', (chunk: Buffer) => this.read(chunk.toString('utf8')));
  }

  static async open(file: string): Promise<Page> {
    const profile = mkdtempSync(join(tmpdir(), 'natsim-chromium-'));
    // a process group of its own, so that close() ends the browser and its helpers at once
    const child = spawn(CHROMIUM, [...flags(profile), '--remote-debugging-pipe', `file://${file}`], { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'], detached: true });
    const page = new Page(child, profile);
    const targets = (await page.send('Target.getTargets')) as { targetInfos: { targetId: string; type: string }[] };
    const target = targets.targetInfos.find((t) => t.type === 'page');
    if (!target) throw new Error('chromium opened no page');
    page.session = ((await page.send('Target.attachToTarget', { targetId: target.targetId, flatten: true })) as { sessionId: string }).sessionId;
    return page;
  }

  /** The value of a JavaScript expression in the page. */
  async evaluate<T>(expression: string): Promise<T> {
    const r = (await this.send('Runtime.evaluate', { expression, returnByValue: true })) as { result: { value: T } };
    return r.result.value;
  }

  /** Waits (polling, as a person waits for a page to open) until `expression` is true. */
  async until(expression: string, tries = 600): Promise<void> {
    for (let i = 0; i < tries; i++) {
      if (await this.evaluate<boolean>(`Boolean(${expression})`)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the page never got to: ${expression}`);
  }

  /** A key pressed and released: 'Tab', 'Enter', ' '. */
  async press(key: 'Tab' | 'Enter' | ' '): Promise<void> {
    const codes = { Tab: ['Tab', 9, ''], Enter: ['Enter', 13, '\r'], ' ': ['Space', 32, ' '] } as const;
    const [code, keyCode, text] = codes[key];
    await this.send('Input.dispatchKeyEvent', { type: 'keyDown', key, code, windowsVirtualKeyCode: keyCode, text: text || undefined });
    await this.send('Input.dispatchKeyEvent', { type: 'keyUp', key, code, windowsVirtualKeyCode: keyCode });
  }

  /**
   * Ends the browser and its helpers (its whole process group, killed: a browser told to quit
   * writes its profile on the way out, and its renderer and network processes outlive it, so
   * that removing the profile raced them under load) and, once it has exited, removes its profile.
   */
  async close(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      process.kill(-this.child.pid!, 'SIGKILL');
      await exited;
    }
    removeProfile(this.profile);
  }

  private send(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    const message = { id, method, params, ...(this.session ? { sessionId: this.session } : {}) };
    return new Promise((resolve, reject) => {
      this.waiting.set(id, (reply) => (reply.error ? reject(new Error(`${method}: ${reply.error.message}`)) : resolve(reply.result ?? {})));
      (this.child.stdio[3] as Writable).write(`${JSON.stringify(message)}\0`);
    });
  }

  private read(text: string): void {
    this.buffer += text;
    let end: number;
    while ((end = this.buffer.indexOf('\0')) >= 0) {
      const reply = JSON.parse(this.buffer.slice(0, end)) as Reply;
      this.buffer = this.buffer.slice(end + 1);
      if (reply.id !== undefined) this.waiting.get(reply.id)?.(reply);
    }
  }
}
