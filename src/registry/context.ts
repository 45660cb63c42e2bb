import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import type { Metadata } from '../db/metadata.js';
import type { BlobStore } from '../storage/blob-store.js';

/** What the registry's rules work with: the two stores, the limits, a logger and a clock. */
export interface RegistryContext {
  metadata: Metadata;
  blobs: BlobStore;
  config: Config;
  log: Logger;
  now: () => number;
}
