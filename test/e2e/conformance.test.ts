import t, { type Test } from 'tap';
import { s3Overrides, testBucket } from '../backends/s3.js';
import { freshPostgresUrl, haveBackend, testDatabaseUrl } from '../helpers/backends.js';
import { runConformance } from '../conformance/suite.js';
import { startServer } from '../helpers/server.js';

// Our port of the OCI distribution-spec conformance suite (v1.1.1), all four categories,
// against a fresh server. Chartroom mounts only with `from`, so the "automatic
// cross-mount disabled" spec runs and the "enabled" one is skipped.
async function conformance(t: Test, overrides: Record<string, unknown> = {}): Promise<void> {
  const server = await startServer(t, overrides);
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
}

t.test('OCI conformance suite: every spec passes', (t) => conformance(t));

t.test('OCI conformance suite over PostgreSQL and S3: every spec passes', async (t) => {
  if (!haveBackend(t, 'PostgreSQL (CHARTROOM_TEST_DATABASE_URL)', testDatabaseUrl !== undefined)) return;
  const bucket = await testBucket(t);
  if (!bucket) return;
  await conformance(t, { 'metadata.driver': 'postgres', 'metadata.url': await freshPostgresUrl(t), ...s3Overrides(bucket.config) });
});
