import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { createWalSync } from '../../src/db/wal-sync.js';
import { createSqliteMetadata } from '../../src/db/sqlite-metadata.js';
import { tempDataDir } from '../helpers/server.js';

t.test('concurrent callers share fsyncs: one running, at most one queued', async (t) => {
  const file = join(tempDataDir(t), 'wal');
  writeFileSync(file, 'frames');
  let syncs = 0;
  const wal = createWalSync(file, () => syncs++);
  t.teardown(() => wal.close());
  await Promise.all(Array.from({ length: 50 }, () => wal.sync()));
  t.ok(syncs >= 1 && syncs <= 2, `50 callers, ${syncs} fsyncs`);
  const before = syncs;
  await wal.sync();
  t.equal(syncs, before + 1, 'a later caller gets a sync of its own');
  const first = wal.sync();
  const second = wal.sync();
  const third = wal.sync();
  t.equal(second, third, 'callers during a running sync wait for the same next one');
  t.not(first, second, 'which starts after the running one, so it covers their commits');
  await Promise.all([first, second, third]);
});

t.test('a missing WAL file fails the sync instead of pretending', async (t) => {
  const wal = createWalSync(join(tempDataDir(t), 'absent-wal'));
  t.teardown(() => wal.close());
  await t.rejects(wal.sync(), { code: 'ENOENT' });
});

t.test('metadata writes resolve after their commit is synced, and survive a reopen', async (t) => {
  const file = join(tempDataDir(t), 'chartroom.db');
  const metadata = createSqliteMetadata(file);
  await Promise.all(
    Array.from({ length: 40 }, (_, i) => metadata.linkNewBlob(`team/r${i % 4}`, { digest: `sha256:${String(i).padStart(64, '0')}`, size: i }, () => true)),
  );
  metadata.close();
  const reopened = createSqliteMetadata(file);
  t.teardown(() => reopened.close());
  t.same(await reopened.linkedBlob('team/r3', `sha256:${'39'.padStart(64, '0')}`), { size: 39 });
});
