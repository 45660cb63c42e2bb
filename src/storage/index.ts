import type { Config } from '../config/index.js';
import type { BlobStore } from './blob-store.js';
import { createDiskBlobStore } from './disk-blob-store.js';

/** The blob store the config names. */
export async function createBlobStore(config: Config): Promise<BlobStore> {
  return createDiskBlobStore(config.data);
}
