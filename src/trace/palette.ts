/** Colours for trace text: chalk on a terminal, plain text otherwise (and with NO_COLOR). */
import { Chalk } from 'chalk';

export interface Palette {
  dim(s: string): string;
  bad(s: string): string;
  ct(s: string): string;
  changed(s: string): string;
}

/** Without colour every style is the text itself: no chalk call on each of a trace's millions of lines. */
const plain = (s: string): string => s;
const PLAIN: Palette = { dim: plain, bad: plain, ct: plain, changed: plain };

export function makePalette(color: boolean): Palette {
  if (!color) return PLAIN;
  const ch = new Chalk({ level: 1 });
  return { dim: (s) => ch.gray(s), bad: (s) => ch.red(s), ct: (s) => ch.cyan(s), changed: (s) => ch.yellow(s) };
}

/** Colour only on a terminal (CliStream.terminal), never with NO_COLOR set or --no-color. */
export function wantColor(terminal: NodeJS.WriteStream | null, disabled: boolean): boolean {
  return !disabled && terminal !== null && !('NO_COLOR' in process.env && process.env.NO_COLOR !== '');
}
