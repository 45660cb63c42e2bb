import type { BlobRecord, GarbageManifest } from '../metadata.js';
import type { Sql } from './connection.js';
import { lockBlob } from './locks.js';

// The same rules as the embedded store's (sqlite-gc.ts): a blob is garbage when no manifest
// references it and it was neither stored nor linked since the cutoff ($before) …
const garbageBlob = `NOT EXISTS (SELECT 1 FROM manifest_refs r WHERE r.kind = 'blob' AND r.digest = b.digest)
  AND b.created_at < $before
  AND NOT EXISTS (SELECT 1 FROM repo_blobs l WHERE l.digest = b.digest AND l.created_at >= $before)`;

// … and a manifest when no tag names it, no index in its repository lists it, it is no referrer
// of a manifest still there, and it is older than the cutoff.
const garbageManifest = `m.created_at < $before
  AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.manifest_id = m.id)
  AND NOT EXISTS (SELECT 1 FROM manifest_refs x JOIN manifests p ON p.id = x.manifest_id
                  WHERE x.kind = 'manifest' AND x.digest = m.digest AND p.repo_id = m.repo_id)
  AND NOT (m.subject IS NOT NULL AND EXISTS (SELECT 1 FROM manifests s WHERE s.repo_id = m.repo_id AND s.digest = m.subject))`;

/** Numbers the named placeholders of a rule after the statement's own. */
function withCutoff(rule: string, position: number): string {
  return rule.replaceAll('$before', `$${position}`);
}

export async function garbageBlobs(sql: Sql, after: string, before: number, limit: number): Promise<BlobRecord[]> {
  return sql.rows<BlobRecord>(
    `SELECT b.digest, b.size FROM blobs b WHERE b.digest > $1 AND ${withCutoff(garbageBlob, 2)} ORDER BY b.digest LIMIT $3`,
    [after, before, limit],
  );
}

/**
 * Forgets a blob (its links too) if it is still garbage, holding the blob's lock: a push that
 * references or links it takes the same lock (shared), so it either sees the blob gone or makes
 * it live first.
 */
export async function forgetBlobIfGarbage(tx: Sql, digest: string, before: number): Promise<boolean> {
  await lockBlob(tx, digest, 'exclusive');
  if (!(await tx.one(`SELECT 1 FROM blobs b WHERE b.digest = $1 AND ${withCutoff(garbageBlob, 2)}`, [digest, before]))) return false;
  await tx.run('DELETE FROM repo_blobs WHERE digest = $1', [digest]);
  await tx.run('DELETE FROM blobs WHERE digest = $1', [digest]);
  return true;
}

export async function garbageManifests(sql: Sql, after: number, before: number, limit: number): Promise<GarbageManifest[]> {
  return sql.rows<GarbageManifest>(
    `SELECT m.id, r.name AS repository, m.digest, m.size FROM manifests m JOIN repositories r ON r.id = m.repo_id
     WHERE m.id > $1 AND ${withCutoff(garbageManifest, 2)} ORDER BY m.id LIMIT $3`,
    [after, before, limit],
  );
}

/** Removes a manifest (its refs, tags and chart rows go with it) if it is still garbage; the caller holds its repository's lock. */
export async function dropManifestIfGarbage(tx: Sql, id: number, before: number): Promise<boolean> {
  return (await tx.run(`DELETE FROM manifests m WHERE m.id = $1 AND ${withCutoff(garbageManifest, 2)}`, [id, before])) > 0;
}

export async function removalsHeld(sql: Sql): Promise<boolean> {
  return (await sql.one('SELECT 1 FROM holds WHERE expires_at > $1 LIMIT 1', [Date.now()])) !== undefined;
}
