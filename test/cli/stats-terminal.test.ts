/**
 * `natsim stats` on a real terminal: an 80-column tmux pane with NO_COLOR=1 shows the table
 * without one escape code and without a line wider than the pane (a wrapped line). Needs tmux
 * (CI installs it); without it the test is skipped and says why.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';

const hasTmux = spawnSync('tmux', ['-V']).status === 0;
if (!hasTmux) console.log('stats-terminal: skipped (tmux is not installed): the 80-column NO_COLOR check of natsim stats did not run');

/** A tmux server of this test's own (its own socket), so that no other session is touched. */
const socket = `natsim-test-${process.pid}`;
const tmux = (...args: string[]) => spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8', timeout: 60_000 });

afterAll(() => {
  if (hasTmux) tmux('kill-server');
});

describe.skipIf(!hasTmux)('natsim stats in an 80-column terminal', () => {
  it('with NO_COLOR=1 prints no escape codes and no line wider than the terminal', () => {
    const command = `NO_COLOR=1 ${process.execPath} bin/natsim.js stats fixtures/kernel/snat-fixed-port-clash/capture.pcap; tmux -L ${socket} wait-for -S finished`;
    expect(tmux('new-session', '-d', '-x', '80', '-y', '50', '-c', process.cwd(), 'sh', '-c', `${command}; sleep 30`).status).toBe(0);
    expect(tmux('wait-for', 'finished').status).toBe(0);
    // -e: keep escape sequences; -J: join lines the terminal wrapped, so a wrap shows as a long line
    const pane = tmux('capture-pane', '-p', '-e', '-J').stdout;
    expect(pane).toContain('insert_failed');
    expect(pane).not.toContain('\x1b');
    const lines = pane.split('\n');
    expect(lines.filter((l) => [...l].length > 80)).toEqual([]);
  });
});
