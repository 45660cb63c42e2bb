import t from 'tap';
import { createDiskBlobStore } from '../../src/storage/disk-blob-store.js';
import { tempDir } from '../helpers/tmp.js';
import { blobStoreSuite } from './blob-store-suite.js';

blobStoreSuite(
  t,
  async (t) => {
    const root = tempDir(t, 'disk-store');
    return { open: () => createDiskBlobStore(root) };
  },
  { partBytes: 5 * 1024 * 1024 },
);
