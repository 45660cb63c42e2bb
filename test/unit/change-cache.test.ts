import { createHash } from 'node:crypto';
import { join } from 'node:path';
import t from 'tap';
import { createSqliteMetadata } from '../../src/db/sqlite-metadata.js';
import { ChangeCache } from '../../src/registry/change-cache.js';
import { tempDataDir } from '../helpers/server.js';

t.test('a value stays until its group changes; past the bound of counted groups everything is read again', async (t) => {
  const metadata = createSqliteMetadata(join(tempDataDir(t), 'chartroom.db'));
  t.teardown(() => metadata.close());
  const cache = new ChangeCache<string>(metadata, 10, (repository) => repository, 2);
  const loads: string[] = [];
  const read = (repository: string) => cache.read(repository, repository, async () => (loads.push(repository), repository));
  const change = async (repository: string) => {
    const content = Buffer.from(JSON.stringify({ schemaVersion: 2, repository }));
    const digest = `sha256:${createHash('sha256').update(content).digest('hex')}`;
    const base = { repository, digest, mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: undefined, subject: undefined, annotations: undefined };
    await metadata.putManifest({ ...base, content, refs: [], tag: 'latest', createdAt: Date.now() });
  };

  await read('team/a');
  await read('team/a');
  t.same(loads, ['team/a'], 'read once');
  await change('team/a');
  await read('team/a');
  t.same(loads, ['team/a', 'team/a'], 'read again after a change to it');
  await change('team/b');
  await read('team/a');
  t.same(loads, ['team/a', 'team/a'], 'a change elsewhere leaves it');
  await change('team/c');
  await read('team/a');
  t.equal(loads.length, 3, 'a third changed group is over the bound of two: every value is read again');
});
