/**
 * natsim diff runs its two replays at once: the changed one in a worker thread, started before
 * this thread replays the input as it is. The capture is read synchronously, so this thread's
 * replay yields only at its end; a worker started after it (as Promise.all's second argument
 * was) waited for it, and a diff took the time of two replays. The worker is faked here (its
 * entry is a file of dist/); what is checked is the order diffCommand starts things in, and
 * that a failed replay ends the worker rather than waiting for it.
 */
import { describe, expect, it, vi } from 'vitest';
import { InputError } from '../../src/errors.js';

const log = vi.hoisted(() => ({ calls: [] as string[], failReplay: false }));

vi.mock('../../src/cli/diff-run.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/cli/diff-run.js')>();
  return {
    ...real,
    fatesInWorker: (input: string, options: Parameters<typeof real.fatesInWorker>[1], changes: Parameters<typeof real.fatesInWorker>[2]) => {
      log.calls.push('worker started');
      // the changed replay on this thread, once the caller yields: its fates as the worker would give them
      // (not when this thread's replay is to fail: that test ends before a replay here would)
      const fates = Promise.resolve().then(async () => ({ hosts: log.failReplay ? [] : await real.fatesRun(input, real.changedOptions(options, changes)), stderr: [] }));
      fates.catch(() => undefined);
      return {
        fates,
        stop: async () => void log.calls.push('worker stopped'),
      };
    },
    fatesRun: async (...args: Parameters<typeof real.fatesRun>) => {
      log.calls.push('replay started');
      if (log.failReplay) throw new InputError({ file: args[0] }, 'bad input');
      const fates = await real.fatesRun(...args);
      log.calls.push('replay done');
      return fates;
    },
  };
});

const { diffCommand } = await import('../../src/cli/diff.js');

const CAPTURE = 'fixtures/kernel/snat-fixed-port-clash/capture.pcap';
const stderr = { line: () => undefined, terminal: null };

describe('natsim diff, its two replays', () => {
  it('starts the changed replay before this thread replays the input as it is', async () => {
    log.calls = [];
    log.failReplay = false;
    const lines: string[] = [];
    const code = await diffCommand(CAPTURE, { node: 'fixtures/kernel/snat-fixed-port-clash', stderr, json: false, changes: { sysctl: ['net.netfilter.nf_conntrack_max=1'] } }, { line: (l) => void lines.push(l) });
    expect(log.calls).toEqual(['worker started', 'replay started', 'replay done']);
    expect(code).toBe(1);
    expect(lines.join('\n')).toMatch(/flows changed/);
  });

  it('ends the worker when the replay on this thread fails, and reports that failure', async () => {
    log.calls = [];
    log.failReplay = true;
    const run = diffCommand(CAPTURE, { node: 'fixtures/kernel/snat-fixed-port-clash', stderr, json: false, changes: { sysctl: ['net.netfilter.nf_conntrack_max=1'] } }, { line: () => undefined });
    await expect(run).rejects.toThrow(/bad input/);
    expect(log.calls).toEqual(['worker started', 'replay started', 'worker stopped']);
  });
});
