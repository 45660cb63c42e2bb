import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/index.js';
import type { Metadata } from './metadata.js';
import { createSqliteMetadata } from './sqlite-metadata.js';

/** The metadata store the config names: the embedded SQLite database in the data directory, or PostgreSQL. */
export async function openMetadata(config: Config): Promise<Metadata> {
  const searchIndex = config.charts.search;
  if (config.metadata.driver === 'postgres') {
    // Loaded only for PostgreSQL: the driver adds some 150 ms to every start of the embedded registry.
    const { createPostgresMetadata } = await import('./postgres/metadata.js');
    return createPostgresMetadata({ url: config.metadata.url, poolSize: config.metadata.poolSize, searchIndex });
  }
  mkdirSync(config.data, { recursive: true });
  return createSqliteMetadata(join(config.data, 'chartroom.db'), { searchIndex });
}
