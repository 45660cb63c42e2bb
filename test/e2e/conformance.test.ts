import t from 'tap';
import { runConformance } from '../conformance/suite.js';
import { startServer } from '../helpers/server.js';

// Our port of the OCI distribution-spec conformance suite (v1.1.1), all four categories,
// against a fresh server. Chartroom mounts only with `from`, so the "automatic
// cross-mount disabled" spec runs and the "enabled" one is skipped.
t.test('OCI conformance suite: every spec passes', async (t) => {
  const server = await startServer(t);
  const results = await runConformance({
    rootUrl: server.url,
    namespace: 'conformance/test',
    crossmountNamespace: 'conformance/crossmount',
    automaticCrossmount: false,
  });
  t.equal(results.length, 79, 'all 79 specs ran');
  for (const result of results) {
    if (result.outcome === 'skipped') continue;
    t.equal(result.outcome, 'passed', `${result.category}: ${result.name}${result.error ? ` — ${result.error}` : ''}`);
  }
  const skipped = results.filter((result) => result.outcome === 'skipped').map((result) => result.name);
  t.ok(skipped.length <= 5, `at most the suite's own 5 conditional specs are skipped (${skipped.length})`);
});
