import { join } from 'node:path';
import t from 'tap';
import { createSqliteMetadata } from '../../src/db/sqlite-metadata.js';
import { tempDataDir } from '../helpers/server.js';
import { metadataSuite } from './metadata-suite.js';

metadataSuite(t, async (t) => {
  const file = join(tempDataDir(t), 'chartroom.db');
  const opened = [createSqliteMetadata(file)];
  t.teardown(async () => {
    for (const metadata of opened) await metadata.close();
  });
  return {
    metadata: opened[0] as (typeof opened)[number],
    async another() {
      const metadata = createSqliteMetadata(file);
      opened.push(metadata);
      return metadata;
    },
    exclusiveAcrossProcesses: false,
  };
});
