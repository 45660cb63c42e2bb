import type { Sql } from './connection.js';

// Transaction-scoped advisory locks stand in for the embedded store's single writer where several
// replicas could otherwise interleave: keys are 64-bit hashes of a name, so an unrelated name that
// happens to share a hash only waits a moment longer.

/**
 * A repository's changes one at a time: the search row is rebuilt from what the transaction reads,
 * and the immutable-version check reads the tag it then moves.
 */
export async function lockRepository(tx: Sql, repoId: number): Promise<void> {
  await tx.run('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`repository:${repoId}`]);
}

/**
 * A blob's registration, its references and links take it shared; garbage collection takes it
 * exclusively to forget the blob or remove its stored copy. Take several in sorted order.
 */
export async function lockBlob(tx: Sql, digest: string, mode: 'shared' | 'exclusive'): Promise<void> {
  const lock = mode === 'shared' ? 'pg_advisory_xact_lock_shared' : 'pg_advisory_xact_lock';
  await tx.run(`SELECT ${lock}(hashtextextended($1, 0))`, [`blob:${digest}`]);
}

export async function lockBlobs(tx: Sql, digests: string[]): Promise<void> {
  for (const digest of [...new Set(digests)].sort()) await lockBlob(tx, digest, 'shared');
}
