#!/usr/bin/env node
// dist/bundle is tsc's dist/cli bundled by scripts/bundle.mjs (npm run build): a few files for
// node to load instead of ~250 (issue 22)
import { main } from '../dist/bundle/main.js';

main(process.argv).then((code) => {
  process.exitCode = code;
});
