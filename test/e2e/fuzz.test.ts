// A few hundred cases of reliability/fuzz.ts against real server processes: the crafted hostile
// requests and seeded random ones over every route. No 5xx to a client's mistake, no hang, no
// crash, and nothing stored by a refused request.
import t from 'tap';
import { runFuzz } from '../../reliability/lib/fuzz-run.js';

t.test('hostile requests get 4xx and store nothing', async (t) => {
  const seed = Number(process.env.CHARTROOM_FUZZ_SEED ?? 20_261_125);
  const report = await runFuzz({ cases: 300, seed, log: (line) => t.comment(line) });
  t.comment(`seed ${seed}: ${report.cases} cases in ${report.seconds.toFixed(1)} s; answers ${JSON.stringify(report.byStatus)}`);
  t.ok(report.cases >= 300, 'every case ran (the servers stayed up)');
  t.same(
    report.findings.map((finding) => `case ${finding.caseNumber} (${finding.kind}): ${finding.problem} — ${finding.request}`),
    [],
    'no findings',
  );
});
