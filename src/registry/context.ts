import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import type { Metadata } from '../db/metadata.js';
import type { BlobStore } from '../storage/blob-store.js';
import type { ChangeListener } from './changes.js';

/** What the registry's rules work with: the two stores, the limits, a logger, a clock and who hears of changes. */
export interface RegistryContext {
  metadata: Metadata;
  blobs: BlobStore;
  config: Config;
  log: Logger;
  now: () => number;
  changes: ChangeListener;
}
