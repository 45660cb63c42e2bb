import { randomUUID } from 'node:crypto';
import { openDatabase, writeTransaction } from './database.js';
import { createWalSync } from './wal-sync.js';
import { createChartSearchIndex } from './sqlite-search.js';
import { backupDatabase } from './sqlite-backup.js';
import { createGcStatements } from './sqlite-gc.js';
import type { GarbageManifest, Metadata, MetadataStats, NewManifest, PageRequest, PutManifestResult, ChartRecord } from './metadata.js';
import { BlobVanishedError, SynchronousBlobStoreRequired, type BlobCheck } from './metadata.js';
import {
  toChartRecord,
  toChartVersion,
  toDescriptor,
  toManifest,
  toRobot,
  toUpload,
  visibleChartColumns,
  type ChartRow,
  type ManifestRow,
  type ReferrerRow,
  type RobotRow,
  type UploadRow,
} from './rows.js';

/** Acknowledged commits between two checkpoints of the WAL into the database file. */
const commitsPerCheckpoint = 100;

/** Quiet time after a chart write before the search index's segments are merged. */
const indexMergeDelayMs = 500;

// SQLite's LIMIT -1 means "no limit".
const noLimit = -1;
/** How often other processes' changes are looked for, how many polls between prunes, how long they are kept. */
const changePollMs = 1000;
const changeLogPrunePolls = 60;
const changeLogKeepMs = 3600_000;

/**
 * The embedded metadata store: every method runs one synchronous SQLite transaction, and a write
 * resolves only once its commit is on disk. Commits are synced in groups (wal-sync.ts): one
 * fsync of the WAL, off the event loop, for all the writers that committed meanwhile. Readers
 * may see a commit a moment before it is durable; no writer is told it succeeded before.
 * Upload-session bookkeeping commits without waiting for a sync: the next one makes it durable,
 * and a session lost to a power cut only makes its client start the upload again. (On a connection
 * of its own it cost several times more: each connection's writes made the other reload its pages.)
 * A second connection, which syncs, runs the checkpoints.
 */
export function createSqliteMetadata(file: string, options: { searchIndex?: boolean } = {}): Metadata {
  const db = openDatabase(file, 'grouped');
  const checkpointer = openDatabase(file, 'normal');
  const wal = createWalSync(`${file}-wal`);
  let commitsSinceCheckpoint = 0;
  /** Resolves with `result` once the commits made so far are on disk (see wal-sync.ts). */
  async function durable<T>(result: T): Promise<T> {
    await wal.sync();
    // `db` never checkpoints (it does not sync); the checkpointer does, syncing WAL and database.
    if (++commitsSinceCheckpoint >= commitsPerCheckpoint && db.open) {
      commitsSinceCheckpoint = 0;
      checkpointer.exec('PRAGMA wal_checkpoint(PASSIVE)');
    }
    return result;
  }
  const search = createChartSearchIndex(db);
  // Without the index, chart writes skip its upkeep; it is dropped so that it is rebuilt, not trusted stale, when turned on again.
  const indexing = options.searchIndex !== false;
  const refreshSearch = (repoId: number): void => {
    if (indexing && search.refresh(repoId)) scheduleIndexMerge();
  };
  // Index segments are merged once pushes pause for a moment, a step per transaction, off the push path.
  let mergeTimer: NodeJS.Timeout | undefined;
  const mergeIndex = async (): Promise<void> => {
    mergeTimer = undefined;
    const mergeSome = writeTransaction(db, search.mergeSome);
    while (db.open && mergeTimer === undefined && mergeSome()) await new Promise((resolve) => setImmediate(resolve));
  };
  function scheduleIndexMerge(): void {
    if (mergeTimer) mergeTimer.refresh();
    else mergeTimer = setTimeout(() => void mergeIndex(), indexMergeDelayMs).unref();
  }
  if (!indexing) writeTransaction(db, search.clear)();
  else if (search.needsBuild()) writeTransaction(db, search.rebuild)();
  else scheduleIndexMerge();
  const q = {
    repoId: db.prepare<[string], { id: number }>('SELECT id FROM repositories WHERE name = ?'),
    insertRepo: db.prepare<[string, number]>('INSERT OR IGNORE INTO repositories (name, created_at) VALUES (?, ?)'),
    listRepos: db.prepare<[string, number], { name: string }>(
      `SELECT name FROM repositories r WHERE name > ? AND EXISTS (SELECT 1 FROM manifests m WHERE m.repo_id = r.id)
       ORDER BY name LIMIT ?`,
    ),

    linkedBlob: db.prepare<[string, string], { size: number }>(
      `SELECT b.size FROM repo_blobs l JOIN repositories r ON r.id = l.repo_id JOIN blobs b ON b.digest = l.digest
       WHERE r.name = ? AND l.digest = ?`,
    ),
    insertBlob: db.prepare<[string, number, number]>('INSERT OR IGNORE INTO blobs (digest, size, created_at) VALUES (?, ?, ?)'),
    // Linking again restarts garbage collection's grace period for the blob (see sqlite-gc.ts).
    link: db.prepare<[number, string, number]>(
      'INSERT INTO repo_blobs (repo_id, digest, created_at) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET created_at = excluded.created_at',
    ),
    unlink: db.prepare<[string, string]>(
      'DELETE FROM repo_blobs WHERE repo_id = (SELECT id FROM repositories WHERE name = ?) AND digest = ?',
    ),

    insertUpload: db.prepare<[string, string, number, number, number]>(
      'INSERT INTO uploads (id, repository, "offset", started_at, updated_at) VALUES (?, ?, ?, ?, ?)',
    ),
    upload: db.prepare<[string], UploadRow>('SELECT * FROM uploads WHERE id = ?'),
    advanceUpload: db.prepare<[number, string | null, number, string, number]>(
      'UPDATE uploads SET "offset" = ?, state = ?, updated_at = ? WHERE id = ? AND "offset" = ?',
    ),
    deleteUpload: db.prepare<[string]>('DELETE FROM uploads WHERE id = ?'),
    staleUploads: db.prepare<[number], UploadRow>('SELECT * FROM uploads WHERE updated_at < ?'),
    uploadIds: db.prepare<[], { id: string }>('SELECT id FROM uploads'),

    manifestByDigest: db.prepare<[string, string], ManifestRow>(
      `SELECT m.id, m.digest, m.media_type, m.size, m.content FROM manifests m JOIN repositories r ON r.id = m.repo_id
       WHERE r.name = ? AND m.digest = ?`,
    ),
    manifestByTag: db.prepare<[string, string], ManifestRow>(
      `SELECT m.id, m.digest, m.media_type, m.size, m.content FROM tags t JOIN repositories r ON r.id = t.repo_id
       JOIN manifests m ON m.id = t.manifest_id WHERE r.name = ? AND t.name = ?`,
    ),
    manifestId: db.prepare<[number, string], { id: number }>('SELECT id FROM manifests WHERE repo_id = ? AND digest = ?'),
    hasBlobLink: db.prepare<[number, string], { one: number }>('SELECT 1 AS one FROM repo_blobs WHERE repo_id = ? AND digest = ?'),
    insertManifest: db.prepare<[number, string, string, string | null, string | null, string | null, number, Buffer, number]>(
      `INSERT INTO manifests (repo_id, digest, media_type, artifact_type, subject, annotations, size, content, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    insertRef: db.prepare<[number, string, string]>('INSERT OR IGNORE INTO manifest_refs (manifest_id, kind, digest) VALUES (?, ?, ?)'),
    upsertTag: db.prepare<[number, string, number, number]>(
      `INSERT INTO tags (repo_id, name, manifest_id, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (repo_id, name) DO UPDATE SET manifest_id = excluded.manifest_id, updated_at = excluded.updated_at`,
    ),
    deleteManifest: db.prepare<[number, string]>('DELETE FROM manifests WHERE repo_id = ? AND digest = ?'),
    deleteTag: db.prepare<[number, string]>('DELETE FROM tags WHERE repo_id = ? AND name = ?'),
    listTags: db.prepare<[number, string, number], { name: string }>(
      'SELECT name FROM tags WHERE repo_id = ? AND name > ? ORDER BY name LIMIT ?',
    ),
    insertChart: db.prepare<
      [number, number, string, string, string, string, string | null, string | null, number, string, string, number, string | null, number]
    >(
      `INSERT OR IGNORE INTO charts (manifest_id, repo_id, namespace, name, version, version_tag, app_version, description, deprecated,
         metadata, chart_digest, chart_size, prov_digest, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    insertChartFiles: db.prepare<[number, string | null, string | null, string | null]>(
      'INSERT OR IGNORE INTO chart_files (manifest_id, readme, values_yaml, values_schema) VALUES (?, ?, ?, ?)',
    ),
    // The manifest a chart-version tag points at now, when it carries that very version.
    taggedChartVersion: db.prepare<[number, string], { digest: string }>(
      `SELECT m.digest FROM tags t JOIN manifests m ON m.id = t.manifest_id JOIN charts c ON c.manifest_id = m.id
       WHERE t.repo_id = ? AND t.name = ? AND c.version_tag = t.name`,
    ),
    chartOfManifest: db.prepare<[string, string], ChartRow>(
      `SELECT c.*, f.readme, f.values_yaml, f.values_schema FROM charts c JOIN manifests m ON m.id = c.manifest_id
       JOIN repositories r ON r.id = m.repo_id LEFT JOIN chart_files f ON f.manifest_id = c.manifest_id
       WHERE r.name = ? AND m.digest = ?`,
    ),
    chartVersions: db.prepare<[string], ChartRow>(
      `SELECT ${visibleChartColumns} FROM charts c JOIN tags t ON t.manifest_id = c.manifest_id AND t.name = c.version_tag
       JOIN manifests m ON m.id = c.manifest_id JOIN repositories r ON r.id = c.repo_id
       WHERE c.namespace = ? ORDER BY c.name`,
    ),
    chartVersionPage: db.prepare<[string, number, number, number, number], ChartRow & { repo_id: number; manifest_id: number }>(
      `SELECT ${visibleChartColumns}, c.repo_id, c.manifest_id FROM charts c
       JOIN tags t ON t.manifest_id = c.manifest_id AND t.name = c.version_tag
       JOIN manifests m ON m.id = c.manifest_id JOIN repositories r ON r.id = c.repo_id
       WHERE c.namespace = ? AND (c.repo_id > ? OR (c.repo_id = ? AND c.manifest_id > ?))
       ORDER BY c.repo_id, c.manifest_id LIMIT ?`,
    ),
    chartVersionsOf: db.prepare<[string, string], ChartRow>(
      `SELECT ${visibleChartColumns} FROM charts c JOIN tags t ON t.manifest_id = c.manifest_id AND t.name = c.version_tag
       JOIN manifests m ON m.id = c.manifest_id JOIN repositories r ON r.id = c.repo_id
       WHERE c.namespace = ? AND c.name = ?`,
    ),
    repositoryCharts: db.prepare<[string], ChartRow>(
      `SELECT ${visibleChartColumns} FROM charts c JOIN tags t ON t.manifest_id = c.manifest_id AND t.name = c.version_tag
       JOIN manifests m ON m.id = c.manifest_id JOIN repositories r ON r.id = c.repo_id
       WHERE r.name = ?`,
    ),
    chartVersion: db.prepare<[string, string, string], ChartRow>(
      `SELECT c.*, f.readme, f.values_yaml, f.values_schema, r.name AS repository, m.digest AS manifest_digest FROM charts c
       JOIN tags t ON t.manifest_id = c.manifest_id AND t.name = c.version_tag
       JOIN manifests m ON m.id = c.manifest_id JOIN repositories r ON r.id = c.repo_id
       LEFT JOIN chart_files f ON f.manifest_id = c.manifest_id
       WHERE c.namespace = ? AND c.name = ? AND c.version = ?`,
    ),
    chartNamespaces: db.prepare<[], { namespace: string; charts: number }>(
      `SELECT c.namespace, COUNT(DISTINCT c.name) AS charts FROM charts c
       JOIN tags t ON t.manifest_id = c.manifest_id AND t.name = c.version_tag GROUP BY c.namespace ORDER BY c.namespace`,
    ),
    insertRobot: db.prepare<[string, string, string, number, number | null]>(
      'INSERT OR IGNORE INTO robot_tokens (name, secret_hash, scopes, created_at, expires_at) VALUES (?, ?, ?, ?, ?)',
    ),
    robot: db.prepare<[string], RobotRow>('SELECT * FROM robot_tokens WHERE name = ?'),
    robots: db.prepare<[], RobotRow>('SELECT * FROM robot_tokens ORDER BY name'),
    revokeRobot: db.prepare<[number, string]>('UPDATE robot_tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL'),
    stats: db.prepare<[], Omit<MetadataStats, 'uploadsInProgress'>>(
      `SELECT (SELECT COUNT(*) FROM repositories) AS repositories, (SELECT COUNT(DISTINCT repo_id) FROM charts) AS charts,
         (SELECT COUNT(*) FROM charts) AS chartVersions, (SELECT COUNT(*) FROM blobs) AS blobs,
         (SELECT COALESCE(SUM(size), 0) FROM blobs) AS blobBytes`,
    ),
    uploadCount: db.prepare<[], number>('SELECT COUNT(*) FROM uploads').pluck(),
    ping: db.prepare<[], number>('SELECT 1').pluck(),
    logChange: db.prepare<[string, string, number]>('INSERT INTO change_log (repository, writer, at) VALUES (?, ?, ?)'),
    lastChange: db.prepare<[], number>('SELECT COALESCE(MAX(id), 0) FROM change_log').pluck(),
    changesSince: db.prepare<[number], { id: number; repository: string; writer: string }>(
      'SELECT id, repository, writer FROM change_log WHERE id > ? ORDER BY id',
    ),
    pruneChanges: db.prepare<[number]>('DELETE FROM change_log WHERE at < ?'),
    referrers: db.prepare<[string, string], ReferrerRow>(
      `SELECT m.media_type, m.digest, m.size, m.artifact_type, m.annotations FROM manifests m
       JOIN repositories r ON r.id = m.repo_id WHERE r.name = ? AND m.subject = ? ORDER BY m.id`,
    ),
  };

  const listeners: ((repository: string | undefined) => void)[] = [];
  const changed = (repository: string | undefined): void => {
    for (const listener of listeners) listener(repository);
  };
  // Every change is logged in the transaction that makes it; another process's changes (`chartroom gc`,
  // `import`) reach this one's listeners within a poll interval.
  const writer = randomUUID();
  const logChange = (repository: string): void => void q.logChange.run(repository, writer, Date.now());
  let seenChange = q.lastChange.get() ?? 0;
  let polls = 0;
  let pollTimer: NodeJS.Timeout | undefined;
  /** Other processes' changes since the last look (SQLite commits one writer at a time, so ids arrive in order). */
  function catchUp(): void {
    if (!db.open) return;
    for (const row of q.changesSince.all(seenChange)) {
      seenChange = row.id;
      if (row.writer !== writer) changed(row.repository);
    }
  }
  function pollChanges(): void {
    catchUp();
    if (db.open && ++polls % changeLogPrunePolls === 0) q.pruneChanges.run(Date.now() - changeLogKeepMs);
  }

  function ensureRepository(name: string, now: number): number {
    q.insertRepo.run(name, now);
    return (q.repoId.get(name) as { id: number }).id;
  }

  /** Checks the file only after writing, when the transaction holds the write lock garbage collection needs to remove it. */
  function insertBlobAndLink(repository: string, blob: { digest: string; size: number }, fileIsThere: BlobCheck): void {
    const now = Date.now();
    q.insertBlob.run(blob.digest, blob.size, now);
    q.link.run(ensureRepository(repository, now), blob.digest, now);
    const there = fileIsThere();
    if (there instanceof Promise) throw new SynchronousBlobStoreRequired();
    if (!there) throw new BlobVanishedError(blob.digest);
  }

  const completeUpload = writeTransaction(db, (id: string, repository: string, blob: { digest: string; size: number }, fileIsThere: BlobCheck) => {
    q.deleteUpload.run(id);
    insertBlobAndLink(repository, blob, fileIsThere);
  });
  const linkNewBlob = writeTransaction(db, insertBlobAndLink);
  const gc = createGcStatements(db);
  const dropGarbageManifest = writeTransaction(db, (manifest: GarbageManifest, before: number): boolean => {
    const repo = q.repoId.get(manifest.repository);
    if (!repo || !gc.dropManifestIfGarbage(manifest.id, before)) return false;
    refreshSearch(repo.id);
    logChange(manifest.repository);
    return true;
  });

  const mountBlob = writeTransaction(db, (repository: string, digest: string, from: string): boolean => {
    if (!q.linkedBlob.get(from, digest)) return false;
    const now = Date.now();
    q.link.run(ensureRepository(repository, now), digest, now);
    return true;
  });

  const putManifest = writeTransaction(db, (m: NewManifest): PutManifestResult => {
    const repoId = ensureRepository(m.repository, m.createdAt);
    const missing = m.refs.filter((ref) =>
      ref.kind === 'blob' ? !q.hasBlobLink.get(repoId, ref.digest) : !q.manifestId.get(repoId, ref.digest),
    );
    if (missing.length > 0) return { ok: false, reason: 'missing', missing };
    if (m.tag !== undefined && m.chartVersionsImmutable) {
      const current = q.taggedChartVersion.get(repoId, m.tag);
      if (current && current.digest !== m.digest) return { ok: false, reason: 'immutable', existing: current.digest };
    }
    let manifestId = q.manifestId.get(repoId, m.digest)?.id;
    if (manifestId === undefined) {
      const annotations = m.annotations ? JSON.stringify(m.annotations) : null;
      const inserted = q.insertManifest.run(
        repoId, m.digest, m.mediaType, m.artifactType ?? null, m.subject ?? null, annotations, m.content.length, m.content, m.createdAt,
      );
      manifestId = Number(inserted.lastInsertRowid);
      for (const ref of m.refs) q.insertRef.run(manifestId, ref.kind, ref.digest);
    }
    if (m.chart) insertChart(manifestId, repoId, m.chart);
    if (m.tag !== undefined) {
      q.upsertTag.run(repoId, m.tag, manifestId, m.createdAt);
      refreshSearch(repoId);
    }
    logChange(m.repository);
    return { ok: true };
  });

  /** Runs a deletion in a repository and, when it removed something, brings the search index along. */
  const deleteIn = writeTransaction(db, (statement: typeof q.deleteTag, repository: string, key: string): boolean => {
    const repo = q.repoId.get(repository);
    if (!repo || statement.run(repo.id, key).changes === 0) return false;
    refreshSearch(repo.id);
    logChange(repository);
    return true;
  });

  function insertChart(manifestId: number, repoId: number, c: ChartRecord): void {
    q.insertChart.run(
      manifestId, repoId, c.namespace, c.name, c.version, c.versionTag, c.metadata.appVersion ?? null, c.metadata.description ?? null,
      c.metadata.deprecated ? 1 : 0, JSON.stringify(c.metadata), c.chartDigest, c.chartSize, c.provDigest ?? null, c.createdAt,
    );
    if (c.readme !== undefined || c.values !== undefined || c.valuesSchema !== undefined) {
      q.insertChartFiles.run(manifestId, c.readme ?? null, c.values ?? null, c.valuesSchema ?? null);
    }
  }

  const listTags = db.transaction((repository: string, page: PageRequest): string[] | undefined => {
    const repo = q.repoId.get(repository);
    if (!repo) return undefined;
    return q.listTags.all(repo.id, page.after ?? '', page.limit ?? noLimit).map((row) => row.name);
  });

  return {
    async listRepositories(page) {
      return q.listRepos.all(page.after ?? '', page.limit ?? noLimit).map((row) => row.name);
    },
    async repositoryExists(repository) {
      return q.repoId.get(repository) !== undefined;
    },

    async linkedBlob(repository, digest) {
      return q.linkedBlob.get(repository, digest);
    },
    async mountBlob(repository, digest, from) {
      return durable(mountBlob(repository, digest, from));
    },
    async unlinkBlob(repository, digest) {
      return durable(q.unlink.run(repository, digest).changes > 0);
    },

    async createUpload(u) {
      q.insertUpload.run(u.id, u.repository, u.offset, u.startedAt, u.updatedAt);
    },
    async getUpload(id) {
      const row = q.upload.get(id);
      return row && toUpload(row);
    },
    async advanceUpload(id, from, to, state, updatedAt) {
      return q.advanceUpload.run(to, state ?? null, updatedAt, id, from).changes > 0;
    },
    async deleteUpload(id) {
      return q.deleteUpload.run(id).changes > 0;
    },
    async completeUpload(id, repository, blob, fileIsThere) {
      await durable(completeUpload(id, repository, blob, fileIsThere));
    },
    async linkNewBlob(repository, blob, fileIsThere) {
      await durable(linkNewBlob(repository, blob, fileIsThere));
    },
    async staleUploads(updatedBefore) {
      return q.staleUploads.all(updatedBefore).map(toUpload);
    },
    async uploadIds() {
      return new Set(q.uploadIds.all().map((row) => row.id));
    },

    async putManifest(manifest) {
      const result = await durable(putManifest(manifest));
      if (result.ok) changed(manifest.repository);
      return result;
    },
    async getManifest(repository, reference) {
      const row = 'tag' in reference ? q.manifestByTag.get(repository, reference.tag) : q.manifestByDigest.get(repository, reference.digest);
      return row && toManifest(row);
    },
    async deleteManifest(repository, digest) {
      const deleted = await durable(deleteIn(q.deleteManifest, repository, digest));
      if (deleted) changed(repository);
      return deleted;
    },
    async deleteTag(repository, tag) {
      const deleted = await durable(deleteIn(q.deleteTag, repository, tag));
      if (deleted) changed(repository);
      return deleted;
    },
    async listTags(repository, page) {
      return listTags(repository, page);
    },
    async listReferrers(repository, subject, artifactType) {
      return q.referrers
        .all(repository, subject)
        .filter((row) => artifactType === undefined || row.artifact_type === artifactType)
        .map(toDescriptor);
    },

    async chartOfManifest(repository, digest) {
      const row = q.chartOfManifest.get(repository, digest);
      return row && toChartRecord(row);
    },
    async listChartVersions(namespace, name) {
      const rows = name === undefined ? q.chartVersions.all(namespace) : q.chartVersionsOf.all(namespace, name);
      return rows.map(toChartVersion);
    },
    async listChartVersionPage(namespace, cursor, limit) {
      const after = cursor ?? { repoId: 0, manifestId: 0 };
      const rows = q.chartVersionPage.all(namespace, after.repoId, after.repoId, after.manifestId, limit);
      const last = rows[rows.length - 1];
      const versions = rows.map(toChartVersion);
      return rows.length === limit && last ? { versions, next: { repoId: last.repo_id, manifestId: last.manifest_id } } : { versions };
    },
    async listRepositoryCharts(repository) {
      return q.repositoryCharts.all(repository).map(toChartVersion);
    },
    async getChartVersion(namespace, name, version) {
      const row = q.chartVersion.get(namespace, name, version);
      return row && toChartVersion(row);
    },
    async listChartNamespaces() {
      return q.chartNamespaces.all();
    },

    async searchCharts(query) {
      return search.search(query);
    },
    async chartNames() {
      return search.nameKeys();
    },
    async rebuildSearchIndex() {
      return durable(writeTransaction(db, search.rebuild)());
    },

    async garbageBlobs(after, before, limit) {
      return gc.garbageBlobs(after, before, limit);
    },
    async forgetBlobs(digests, before) {
      return durable(gc.forgetBlobs(digests, before));
    },
    async hasBlob(digest) {
      return gc.hasBlob(digest);
    },
    async removeUnrecordedBlob(digest, removeFile) {
      return gc.removeUnrecorded(digest, removeFile);
    },
    async runAlone(_name, work) {
      // Processes sharing an SQLite file (a server, `chartroom gc`) may collect at once safely (see
      // sqlite-gc.ts); one process never runs two collections (gc.ts).
      return { ran: true as const, result: await work() };
    },
    async holdFileRemovals(name, until) {
      await durable(gc.hold(name, until));
    },
    async releaseHold(name) {
      await durable(gc.release(name));
    },
    async fileRemovalsHeld() {
      return gc.removalsHeld();
    },
    async garbageManifests(after, before, limit) {
      return gc.garbageManifests(after?.id ?? 0, before, limit);
    },
    async dropGarbageManifest(manifest, before) {
      const dropped = await durable(dropGarbageManifest(manifest, before));
      if (dropped) changed(manifest.repository);
      return dropped;
    },

    async createRobotToken(t) {
      return durable(q.insertRobot.run(t.name, t.secretHash, JSON.stringify(t.scopes), t.createdAt, t.expiresAt ?? null).changes > 0);
    },
    async findRobotToken(name) {
      const row = q.robot.get(name);
      return row && toRobot(row);
    },
    async listRobotTokens() {
      return q.robots.all().map(toRobot);
    },
    async revokeRobotToken(name, at) {
      return durable(q.revokeRobot.run(at, name).changes > 0);
    },

    async backupTo(file) {
      return backupDatabase(db, file);
    },

    async stats() {
      return { ...(q.stats.get() as Omit<MetadataStats, 'uploadsInProgress'>), uploadsInProgress: q.uploadCount.get() as number };
    },
    async ping() {
      q.ping.get();
    },

    onChange(listener) {
      listeners.push(listener);
      pollTimer ??= setInterval(pollChanges, changePollMs).unref();
    },

    async syncChanges() {
      catchUp();
    },

    async close() {
      clearTimeout(mergeTimer);
      clearInterval(pollTimer);
      wal.close();
      // The last connection to close checkpoints the WAL into the database: let it sync.
      if (db.open) db.exec('PRAGMA synchronous = FULL');
      for (const connection of [checkpointer, db]) if (connection.open) connection.close();
    },
  };
}

