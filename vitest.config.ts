import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Tests are sized by runs, never by time: on a loaded 2-core machine a property test may take
    // several times its quiet-machine duration, and that must not fail it. The limit only ends a
    // test that hangs.
    testTimeout: 600_000,
    hookTimeout: 600_000,
    // every core (vitest's default leaves one to itself, which on 2 cores ran the files one at a
    // time): the CLI tests run the CLI in their own process (test/cli/helpers.ts), so a file's
    // worker is the only process it keeps busy
    maxWorkers: availableParallelism(),
  },
});
