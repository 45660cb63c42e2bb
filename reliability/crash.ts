// `npm run crash -- --rounds N [--seed S] [--pushers P] [--max-blob BYTES] [--dir DIR]`:
// kills a Chartroom process with SIGKILL under concurrent pushes, N times, restarting it on the
// same data each time, and checks that nothing acknowledged is lost or damaged (see lib/crash-run.ts).
// Exits 1 when any check fails.
import { parseArgs } from 'node:util';
import { crashDefaults, runCrash } from './lib/crash-run.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: String(crashDefaults.rounds) },
    seed: { type: 'string', default: String(Date.now() % 100_000) },
    pushers: { type: 'string', default: String(crashDefaults.pushers) },
    'max-blob': { type: 'string', default: String(crashDefaults.maxBlobBytes) },
    dir: { type: 'string' },
  },
});

const options = {
  ...crashDefaults,
  rounds: Number(values.rounds),
  seed: Number(values.seed),
  pushers: Number(values.pushers),
  maxBlobBytes: Number(values['max-blob']),
  dir: values.dir,
  log: (line: string) => console.log(line),
};
console.log(`crash: ${options.rounds} rounds, seed ${options.seed}, ${options.pushers} pushers, blobs up to ${options.maxBlobBytes} bytes`);
const report = await runCrash(options);
console.log(JSON.stringify({ ...report, violations: report.violations.length }, null, 2));
for (const violation of report.violations) console.log(`VIOLATION ${violation}`);
console.log(report.violations.length === 0 ? 'crash: every check held' : `crash: ${report.violations.length} violations`);
process.exitCode = report.violations.length === 0 ? 0 : 1;
