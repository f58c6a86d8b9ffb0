#!/usr/bin/env node
// The `cordon` CLI entry point. It registers tsx's CommonJS loader and runs bin/cordon.ts,
// so `npx cordon plan event.json` works right after `npm ci`, with no build step.
'use strict';

require('tsx/cjs');
const { main } = require('./cordon.ts');

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`cordon: ${err && err.stack ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  },
);
