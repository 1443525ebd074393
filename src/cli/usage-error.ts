/**
 * A command line that cannot mean anything (options that exclude each other, an option that
 * does not apply to this input): main.ts prints it as the one line `natsim: …` and exits 2,
 * like commander's own usage errors.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
