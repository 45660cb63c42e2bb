// A few rounds of reliability/crash.ts: SIGKILL under 16 concurrent pushers, restart on the same
// data, then everything acknowledged must be there byte for byte and the store must hold together.
import t from 'tap';
import { crashDefaults, runCrash } from '../../reliability/lib/crash-run.js';

// The harness checks the embedded store's files and database itself (reliability/lib/store-check.ts).
const embeddedOnly = process.env.CHARTROOM_TEST_METADATA === 'postgres' ? 'the crash harness checks the embedded store' : false;

t.test('a server killed mid-push loses nothing it acknowledged', { skip: embeddedOnly }, async (t) => {
  const report = await runCrash({
    ...crashDefaults,
    rounds: 3,
    seed: Number(process.env.CHARTROOM_CRASH_SEED ?? 1),
    maxBlobBytes: 512 * 1024,
    killAfterMs: [300, 1500],
    log: (line) => t.comment(line),
  });
  t.comment(`${report.acknowledgedBlobs} blobs, ${report.acknowledgedManifests} manifests acknowledged; ${report.resumed} interrupted pushes finished`);
  t.ok(report.acknowledgedManifests > 0, 'pushes were acknowledged before the kills');
  t.ok(report.resumed > 0, 'pushes were cut off by the kills and finished after the restarts');
  t.same(report.violations, [], 'no acknowledged push lost or damaged, no broken reference, no bad blob file');
});
