// Bundles tsc's dist/cli into dist/bundle, the files bin/natsim.js runs (issue 22: node's module
// loaders over ~250 files of dist/ and the CommonJS files of yaml and cli-table3 were most of
// every command's start-up). Run after tsc (npm run build, prepare).
//
// - Splitting keeps each command's dynamic import('./trace.js') etc. a chunk of its own, loaded
//   when the command runs; a module imported by several chunks goes into one shared chunk, so it
//   is evaluated once (InputError is one class for main's instanceof).
// - diff's worker is an entry point too. Entries and chunks are written flat into one folder, so
//   diff-run's new URL('./diff-worker.js', import.meta.url) finds the worker's bundle there as it
//   finds tsc's diff-worker.js beside it in dist/cli (checked below, for every such URL).
// - commander, yaml and cli-table3 are CommonJS and require node builtins: esbuild's require
//   shim needs a real require in each ESM output file, hence the banner.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const outdir = `${dist}bundle`;

// chunk names carry a content hash: the last build's chunks would stay beside the new ones
rmSync(outdir, { recursive: true, force: true });
const result = await build({
  entryPoints: [`${dist}cli/main.js`, `${dist}cli/diff-worker.js`],
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  splitting: true,
  outdir,
  entryNames: '[name]',
  chunkNames: 'chunk-[hash]',
  banner: { js: "import { createRequire as __natsimRequire } from 'node:module'; const require = __natsimRequire(import.meta.url);" },
  logLevel: 'warning',
  metafile: true,
});

// a file found by new URL('./x.js', import.meta.url) must be where the bundle's file points, or
// the command would fail only when it runs: refuse the build instead
const RELATIVE_URL = /new URL\("(\.\.?\/[^"]*)", import\.meta\.url\)/g;
for (const out of Object.keys(result.metafile.outputs)) {
  for (const [, relative] of readFileSync(out, 'utf8').matchAll(RELATIVE_URL)) {
    const target = fileURLToPath(new URL(relative, pathToFileURL(out)));
    if (!existsSync(target)) throw new Error(`${out}: new URL('${relative}', import.meta.url) is ${target}, which the build did not write`);
  }
}
