#!/usr/bin/env node
// Runs the compiled CLI; `npm ci` builds it through the `prepare` script.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('chartroom: dist/ is missing; run `npm ci` (or `npm run build`) in the project folder first\n');
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
