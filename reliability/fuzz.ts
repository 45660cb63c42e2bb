// `npm run fuzz -- --cases 5000 --seed N [--case K] [--dir DIR]`: hostile requests against real
// Chartroom processes (see lib/fuzz-run.ts). `--case K` replays one case of a seed. Exits 1 on findings.
import { parseArgs } from 'node:util';
import { runFuzz } from './lib/fuzz-run.js';

const { values } = parseArgs({
  options: { cases: { type: 'string', default: '5000' }, seed: { type: 'string', default: String(Date.now() % 100_000) }, case: { type: 'string' }, dir: { type: 'string' } },
});
const options = {
  cases: Number(values.cases),
  seed: Number(values.seed),
  only: values.case === undefined ? undefined : Number(values.case),
  dir: values.dir,
  log: (line: string) => console.log(line),
};
console.log(`fuzz: ${options.cases} random cases after the crafted ones, seed ${options.seed}`);
const report = await runFuzz(options);
console.log(JSON.stringify({ ...report, findings: report.findings.length }, null, 2));
for (const finding of report.findings) console.log(`FINDING ×${finding.count} case ${finding.caseNumber} (${finding.kind}): ${finding.problem}\n    ${finding.request}`);
console.log(report.findings.length === 0 ? 'fuzz: no findings' : `fuzz: ${report.findings.length} distinct findings`);
process.exitCode = report.findings.length === 0 ? 0 : 1;
