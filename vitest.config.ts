import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // one temporary folder for the run's files, removed at its end
    globalSetup: ['test/support/run-tmp.ts'],
    // property tests at fast-check's 'medium' size (test/support/fast-check-size.ts)
    setupFiles: ['test/support/fast-check-size.ts'],
    // Tests are sized by runs, never by time: on a loaded 2-core machine a property test may take
    // several times its quiet-machine duration, and that must not fail it. The limit only ends a
    // test that hangs.
    testTimeout: 600_000,
    hookTimeout: 600_000,
    // every core: vitest's default (cores - 1) ran the files one at a time on 2 cores
    maxWorkers: availableParallelism(),
    // dist/ is the built CLI that the tests run in-process (test/cli/helpers.ts): node loads it as
    // bin/natsim.js does, instead of vite transforming its 300 built files again for every test
    // file (3-5 s a file on this machine)
    server: { deps: { external: [/\/dist\//] } },
    // one module graph per worker, not one per test file: importing src/ afresh for each of the
    // 120 files was a third of the suite's CPU time (213 s -> 141 s user+sys, one run each on a
    // loaded 2-core machine). The tests share no mutable state through modules (the module-level
    // caches are memos, and the IPv6 address table, whose handles conntrack hashes by the
    // address, not by the handle, so that what was interned before changes no output).
    isolate: false,
  },
});
