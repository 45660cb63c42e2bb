import t from 'tap';
import type { Metadata } from '../../src/db/metadata.js';
import { createPostgresMetadata } from '../../src/db/postgres/metadata.js';
import { freshPostgresUrl, haveBackend, testDatabaseUrl } from '../helpers/backends.js';
import { metadataSuite } from './metadata-suite.js';

if (haveBackend(t, 'PostgreSQL (CHARTROOM_TEST_DATABASE_URL)', testDatabaseUrl !== undefined)) {
  metadataSuite(t, async (t) => {
    const url = await freshPostgresUrl(t);
    const opened: Metadata[] = [];
    const open = async (): Promise<Metadata> => {
      const metadata = await createPostgresMetadata({ url, poolSize: 4 });
      opened.push(metadata);
      return metadata;
    };
    const metadata = await open();
    t.teardown(async () => {
      for (const store of opened) await store.close();
    });
    return { metadata, another: open, exclusiveAcrossProcesses: true };
  });
}
