import { writeTransaction, type Db } from './database.js';
import { SynchronousBlobStoreRequired, type BlobRecord, type GarbageManifest } from './metadata.js';

// A blob is garbage when no manifest references it and it was neither stored nor linked into a
// repository since the cutoff (`@before`): a blob pushed just before its manifest is kept.
const garbageBlob = `NOT EXISTS (SELECT 1 FROM manifest_refs r WHERE r.kind = 'blob' AND r.digest = b.digest)
  AND b.created_at < @before
  AND NOT EXISTS (SELECT 1 FROM repo_blobs l WHERE l.digest = b.digest AND l.created_at >= @before)`;

// A manifest is garbage when no tag names it, no index in its repository lists it, it is not a
// referrer (signature, SBOM) of a manifest that is still there, and it is older than the cutoff.
const garbageManifest = `m.created_at < @before
  AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.manifest_id = m.id)
  AND NOT EXISTS (SELECT 1 FROM manifest_refs x JOIN manifests p ON p.id = x.manifest_id
                  WHERE x.kind = 'manifest' AND x.digest = m.digest AND p.repo_id = m.repo_id)
  AND NOT (m.subject IS NOT NULL AND EXISTS (SELECT 1 FROM manifests s WHERE s.repo_id = m.repo_id AND s.digest = m.subject))`;

/**
 * Garbage collection's statements. Every removal re-checks, inside its own write transaction,
 * that what it removes is still garbage: a push that made it live in the meantime wins.
 */
export function createGcStatements(db: Db) {
  const q = {
    blobs: db.prepare<{ after: string; before: number; limit: number }, BlobRecord>(
      `SELECT b.digest, b.size FROM blobs b WHERE b.digest > @after AND ${garbageBlob} ORDER BY b.digest LIMIT @limit`,
    ),
    blobIsGarbage: db.prepare<{ digest: string; before: number }, { size: number }>(
      `SELECT b.size FROM blobs b WHERE b.digest = @digest AND ${garbageBlob}`,
    ),
    dropLinks: db.prepare<[string]>('DELETE FROM repo_blobs WHERE digest = ?'),
    dropBlob: db.prepare<[string]>('DELETE FROM blobs WHERE digest = ?'),
    hasBlob: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM blobs WHERE digest = ?'),
    held: db.prepare<[number], { one: number }>('SELECT 1 AS one FROM holds WHERE expires_at > ? LIMIT 1'),
    hold: db.prepare<[string, number]>('INSERT INTO holds (name, expires_at) VALUES (?, ?) ON CONFLICT DO UPDATE SET expires_at = excluded.expires_at'),
    release: db.prepare<[string]>('DELETE FROM holds WHERE name = ?'),
    manifests: db.prepare<{ after: number; before: number; limit: number }, GarbageManifest>(
      `SELECT m.id, r.name AS repository, m.digest, m.size FROM manifests m JOIN repositories r ON r.id = m.repo_id
       WHERE m.id > @after AND ${garbageManifest} ORDER BY m.id LIMIT @limit`,
    ),
    manifestIsGarbage: db.prepare<{ id: number; before: number }, { one: number }>(
      `SELECT 1 AS one FROM manifests m WHERE m.id = @id AND ${garbageManifest}`,
    ),
    dropManifest: db.prepare<[number]>('DELETE FROM manifests WHERE id = ?'),
  };

  return {
    garbageBlobs(after: string, before: number, limit: number): BlobRecord[] {
      return q.blobs.all({ after, before, limit });
    },
    /** Forgets the blobs that are still garbage and returns them; their files go afterwards, see `removeUnrecorded`. */
    forgetBlobs: writeTransaction(db, (digests: string[], before: number): string[] =>
      digests.filter((digest) => {
        if (!q.blobIsGarbage.get({ digest, before })) return false;
        q.dropLinks.run(digest);
        q.dropBlob.run(digest);
        return true;
      }),
    ),
    hasBlob(digest: string): boolean {
      return q.hasBlob.get(digest) !== undefined;
    },
    /**
     * Runs `removeFile` under the write lock unless the blob is recorded or removals are held.
     * Registering a blob takes the same lock and checks its file is there, so no record ever names
     * a removed file; a backup holds removals while it copies files.
     */
    removeUnrecorded: writeTransaction(db, (digest: string, removeFile: () => void | Promise<void>): boolean => {
      if (q.hasBlob.get(digest) || q.held.get(Date.now())) return false;
      if (removeFile() instanceof Promise) throw new SynchronousBlobStoreRequired();
      return true;
    }),
    removalsHeld(): boolean {
      return q.held.get(Date.now()) !== undefined;
    },
    hold(name: string, until: number): void {
      q.hold.run(name, until);
    },
    release(name: string): void {
      q.release.run(name);
    },
    garbageManifests(after: number, before: number, limit: number): GarbageManifest[] {
      return q.manifests.all({ after, before, limit });
    },
    /** Removes a manifest (its refs, tags and chart rows go with it) if it is still garbage; call inside a transaction. */
    dropManifestIfGarbage(id: number, before: number): boolean {
      return q.manifestIsGarbage.get({ id, before }) !== undefined && q.dropManifest.run(id).changes > 0;
    },
  };
}
