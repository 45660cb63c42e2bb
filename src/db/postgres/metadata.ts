import { randomUUID } from 'node:crypto';
import { BlobVanishedError, type BlobCheck, type ChartRecord, type Metadata, type MetadataStats } from '../metadata.js';
import {
  toChartRecord,
  toChartVersion,
  toDescriptor,
  toManifest,
  toRobot,
  toUpload,
  visibleChartColumns,
  visibleCharts,
  type ChartRow,
  type ManifestRow,
  type ReferrerRow,
  type RobotRow,
  type UploadRow,
} from '../rows.js';
import { announceChange, listenForChanges } from './changes.js';
import { openPostgres, type Sql } from './connection.js';
import { dropManifestIfGarbage, forgetBlobIfGarbage, garbageBlobs, garbageManifests, removalsHeld } from './gc.js';
import { lockBlob, lockBlobs, lockRepository } from './locks.js';
import { rebuildSearch, refreshSearch, searchCharts } from './search.js';

export interface PostgresMetadataOptions {
  url: string;
  poolSize: number;
  searchIndex?: boolean;
}

/**
 * Metadata in PostgreSQL, for several Chartroom processes over one database. Every method is one
 * READ COMMITTED transaction; where the embedded store relies on SQLite's single writer, advisory
 * locks (locks.ts) order the writers that could interleave: a repository's changes, and a blob's
 * registration against its removal by garbage collection. Other processes' changes reach this
 * one's caches through LISTEN/NOTIFY (changes.ts).
 */
export async function createPostgresMetadata(options: PostgresMetadataOptions): Promise<Metadata> {
  const postgres = await openPostgres({ url: options.url, poolSize: options.poolSize });
  const { sql, transaction } = postgres;
  const indexing = options.searchIndex !== false;
  const writer = randomUUID();
  const listeners: ((repository: string | undefined) => void)[] = [];
  const changed = (repository: string | undefined): void => {
    for (const listener of listeners) listener(repository);
  };
  const feed = listenForChanges(postgres, writer, changed);

  if (!indexing) await sql.run('DELETE FROM chart_search');
  else if (await sql.one('SELECT 1 FROM charts WHERE NOT EXISTS (SELECT 1 FROM chart_search) LIMIT 1')) await transaction(rebuildSearch);

  async function repoId(db: Sql, name: string): Promise<number | undefined> {
    return (await db.one<{ id: number }>('SELECT id FROM repositories WHERE name = $1', [name]))?.id;
  }

  async function ensureRepository(tx: Sql, name: string, now: number): Promise<number> {
    await tx.run('INSERT INTO repositories (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, now]);
    return (await repoId(tx, name)) as number;
  }

  // Linking again restarts garbage collection's grace period for the blob (see gc.ts).
  async function link(tx: Sql, repo: number, digest: string, now: number): Promise<void> {
    await tx.run(
      'INSERT INTO repo_blobs (repo_id, digest, created_at) VALUES ($1, $2, $3) ON CONFLICT (repo_id, digest) DO UPDATE SET created_at = excluded.created_at',
      [repo, digest, now],
    );
  }

  /** Checks the stored copy only once the record is written under the blob's lock, which garbage collection needs to remove it. */
  async function insertBlobAndLink(tx: Sql, repository: string, blob: { digest: string; size: number }, fileIsThere: BlobCheck): Promise<void> {
    const now = Date.now();
    await lockBlob(tx, blob.digest, 'shared');
    await tx.run('INSERT INTO blobs (digest, size, created_at) VALUES ($1, $2, $3) ON CONFLICT (digest) DO NOTHING', [blob.digest, blob.size, now]);
    await link(tx, await ensureRepository(tx, repository, now), blob.digest, now);
    if (!(await fileIsThere())) throw new BlobVanishedError(blob.digest);
  }

  /** What follows a change to a repository's manifests or tags, in its transaction. */
  async function afterChange(tx: Sql, repo: number, repository: string): Promise<void> {
    if (indexing) await refreshSearch(tx, repo);
    await announceChange(tx, writer, repository);
  }

  /** Runs a deletion in a repository and, when it removed something, brings the search row along. */
  async function deleteIn(repository: string, statement: string, key: string): Promise<boolean> {
    const deleted = await transaction(async (tx) => {
      const repo = await repoId(tx, repository);
      if (repo === undefined) return false;
      await lockRepository(tx, repo);
      if ((await tx.run(statement, [repo, key])) === 0) return false;
      await afterChange(tx, repo, repository);
      return true;
    });
    if (deleted) changed(repository);
    return deleted;
  }

  async function insertChart(tx: Sql, manifestId: number, repo: number, c: ChartRecord): Promise<void> {
    await tx.run(
      `INSERT INTO charts (manifest_id, repo_id, namespace, name, version, version_tag, app_version, description, deprecated,
         metadata, chart_digest, chart_size, prov_digest, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT (manifest_id) DO NOTHING`,
      [
        manifestId, repo, c.namespace, c.name, c.version, c.versionTag, c.metadata.appVersion ?? null, c.metadata.description ?? null,
        c.metadata.deprecated === true, JSON.stringify(c.metadata), c.chartDigest, c.chartSize, c.provDigest ?? null, c.createdAt,
      ],
    );
    if (c.readme !== undefined || c.values !== undefined || c.valuesSchema !== undefined) {
      await tx.run(
        'INSERT INTO chart_files (manifest_id, readme, values_yaml, values_schema) VALUES ($1, $2, $3, $4) ON CONFLICT (manifest_id) DO NOTHING',
        [manifestId, c.readme ?? null, c.values ?? null, c.valuesSchema ?? null],
      );
    }
  }

  return {
    async listRepositories(page) {
      const rows = await sql.rows<{ name: string }>(
        `SELECT name FROM repositories r WHERE name > $1 AND EXISTS (SELECT 1 FROM manifests m WHERE m.repo_id = r.id)
         ORDER BY name LIMIT $2`,
        [page.after ?? '', page.limit ?? null],
      );
      return rows.map((row) => row.name);
    },
    async repositoryExists(repository) {
      return (await repoId(sql, repository)) !== undefined;
    },

    async linkedBlob(repository, digest) {
      return sql.one<{ size: number }>(
        `SELECT b.size FROM repo_blobs l JOIN repositories r ON r.id = l.repo_id JOIN blobs b ON b.digest = l.digest
         WHERE r.name = $1 AND l.digest = $2`,
        [repository, digest],
      );
    },
    async mountBlob(repository, digest, from) {
      return transaction(async (tx) => {
        await lockBlob(tx, digest, 'shared');
        const source = await tx.one(
          'SELECT 1 FROM repo_blobs l JOIN repositories r ON r.id = l.repo_id WHERE r.name = $1 AND l.digest = $2',
          [from, digest],
        );
        if (!source) return false;
        const now = Date.now();
        await link(tx, await ensureRepository(tx, repository, now), digest, now);
        return true;
      });
    },
    async unlinkBlob(repository, digest) {
      return (await sql.run('DELETE FROM repo_blobs WHERE repo_id = (SELECT id FROM repositories WHERE name = $1) AND digest = $2', [repository, digest])) > 0;
    },

    async createUpload(u) {
      await sql.run('INSERT INTO uploads (id, repository, "offset", state, started_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)', [
        u.id, u.repository, u.offset, u.state ?? null, u.startedAt, u.updatedAt,
      ]);
    },
    async getUpload(id) {
      const row = await sql.one<UploadRow>('SELECT * FROM uploads WHERE id = $1', [id]);
      return row && toUpload(row);
    },
    async advanceUpload(id, from, to, state, updatedAt) {
      return (await sql.run('UPDATE uploads SET "offset" = $1, state = $2, updated_at = $3 WHERE id = $4 AND "offset" = $5', [to, state ?? null, updatedAt, id, from])) > 0;
    },
    async deleteUpload(id) {
      return (await sql.run('DELETE FROM uploads WHERE id = $1', [id])) > 0;
    },
    async completeUpload(id, repository, blob, fileIsThere) {
      await transaction(async (tx) => {
        await tx.run('DELETE FROM uploads WHERE id = $1', [id]);
        await insertBlobAndLink(tx, repository, blob, fileIsThere);
      });
    },
    async linkNewBlob(repository, blob, fileIsThere) {
      await transaction((tx) => insertBlobAndLink(tx, repository, blob, fileIsThere));
    },
    async staleUploads(updatedBefore) {
      return (await sql.rows<UploadRow>('SELECT * FROM uploads WHERE updated_at < $1', [updatedBefore])).map(toUpload);
    },
    async uploadIds() {
      return new Set((await sql.rows<{ id: string }>('SELECT id FROM uploads')).map((row) => row.id));
    },

    async putManifest(m) {
      const result = await transaction(async (tx) => {
        const repo = await ensureRepository(tx, m.repository, m.createdAt);
        await lockRepository(tx, repo);
        const blobRefs = m.refs.filter((ref) => ref.kind === 'blob').map((ref) => ref.digest);
        const manifestRefs = m.refs.filter((ref) => ref.kind === 'manifest').map((ref) => ref.digest);
        // Held to the end: garbage collection cannot forget these blobs once they are seen linked.
        await lockBlobs(tx, blobRefs);
        const linked = new Set((await tx.rows<{ digest: string }>('SELECT digest FROM repo_blobs WHERE repo_id = $1 AND digest = ANY ($2)', [repo, blobRefs])).map((row) => row.digest));
        const present = new Set((await tx.rows<{ digest: string }>('SELECT digest FROM manifests WHERE repo_id = $1 AND digest = ANY ($2)', [repo, manifestRefs])).map((row) => row.digest));
        const missing = m.refs.filter((ref) => !(ref.kind === 'blob' ? linked : present).has(ref.digest));
        if (missing.length > 0) return { ok: false as const, reason: 'missing' as const, missing };
        if (m.tag !== undefined && m.chartVersionsImmutable) {
          const current = await tx.one<{ digest: string }>(
            `SELECT m.digest FROM tags t JOIN manifests m ON m.id = t.manifest_id JOIN charts c ON c.manifest_id = m.id
             WHERE t.repo_id = $1 AND t.name = $2 AND c.version_tag = t.name`,
            [repo, m.tag],
          );
          if (current && current.digest !== m.digest) return { ok: false as const, reason: 'immutable' as const, existing: current.digest };
        }
        let manifestId = (await tx.one<{ id: number }>('SELECT id FROM manifests WHERE repo_id = $1 AND digest = $2', [repo, m.digest]))?.id;
        if (manifestId === undefined) {
          const inserted = await tx.one<{ id: number }>(
            `INSERT INTO manifests (repo_id, digest, media_type, artifact_type, subject, annotations, size, content, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
            [repo, m.digest, m.mediaType, m.artifactType ?? null, m.subject ?? null, m.annotations ? JSON.stringify(m.annotations) : null, m.content.length, m.content, m.createdAt],
          );
          manifestId = (inserted as { id: number }).id;
          if (m.refs.length > 0) {
            await tx.run(
              'INSERT INTO manifest_refs (manifest_id, kind, digest) SELECT $1, * FROM unnest($2::text[], $3::text[]) ON CONFLICT DO NOTHING',
              [manifestId, m.refs.map((ref) => ref.kind), m.refs.map((ref) => ref.digest)],
            );
          }
        }
        if (m.chart) await insertChart(tx, manifestId, repo, m.chart);
        if (m.tag !== undefined) {
          await tx.run(
            `INSERT INTO tags (repo_id, name, manifest_id, updated_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (repo_id, name) DO UPDATE SET manifest_id = excluded.manifest_id, updated_at = excluded.updated_at`,
            [repo, m.tag, manifestId, m.createdAt],
          );
          await afterChange(tx, repo, m.repository);
        } else {
          await announceChange(tx, writer, m.repository);
        }
        return { ok: true as const };
      });
      if (result.ok) changed(m.repository);
      return result;
    },
    async getManifest(repository, reference) {
      const row =
        'tag' in reference
          ? await sql.one<ManifestRow>(
              `SELECT m.digest, m.media_type, m.size, m.content FROM tags t JOIN repositories r ON r.id = t.repo_id
               JOIN manifests m ON m.id = t.manifest_id WHERE r.name = $1 AND t.name = $2`,
              [repository, reference.tag],
            )
          : await sql.one<ManifestRow>(
              `SELECT m.digest, m.media_type, m.size, m.content FROM manifests m JOIN repositories r ON r.id = m.repo_id
               WHERE r.name = $1 AND m.digest = $2`,
              [repository, reference.digest],
            );
      return row && toManifest(row);
    },
    async deleteManifest(repository, digest) {
      return deleteIn(repository, 'DELETE FROM manifests WHERE repo_id = $1 AND digest = $2', digest);
    },
    async deleteTag(repository, tag) {
      return deleteIn(repository, 'DELETE FROM tags WHERE repo_id = $1 AND name = $2', tag);
    },
    async listTags(repository, page) {
      const repo = await repoId(sql, repository);
      if (repo === undefined) return undefined;
      const rows = await sql.rows<{ name: string }>('SELECT name FROM tags WHERE repo_id = $1 AND name > $2 ORDER BY name LIMIT $3', [
        repo, page.after ?? '', page.limit ?? null,
      ]);
      return rows.map((row) => row.name);
    },
    async listReferrers(repository, subject, artifactType) {
      const rows = await sql.rows<ReferrerRow>(
        `SELECT m.media_type, m.digest, m.size, m.artifact_type, m.annotations FROM manifests m
         JOIN repositories r ON r.id = m.repo_id WHERE r.name = $1 AND m.subject = $2 AND ($3::text IS NULL OR m.artifact_type = $3) ORDER BY m.id`,
        [repository, subject, artifactType ?? null],
      );
      return rows.map(toDescriptor);
    },

    async chartOfManifest(repository, digest) {
      const row = await sql.one<ChartRow>(
        `SELECT c.*, f.readme, f.values_yaml, f.values_schema FROM charts c JOIN manifests m ON m.id = c.manifest_id
         JOIN repositories r ON r.id = m.repo_id LEFT JOIN chart_files f ON f.manifest_id = c.manifest_id
         WHERE r.name = $1 AND m.digest = $2`,
        [repository, digest],
      );
      return row && toChartRecord(row);
    },
    async listChartVersions(namespace, name) {
      const rows =
        name === undefined
          ? await sql.rows<ChartRow>(`SELECT ${visibleChartColumns} FROM ${visibleCharts} WHERE c.namespace = $1 ORDER BY c.name`, [namespace])
          : await sql.rows<ChartRow>(`SELECT ${visibleChartColumns} FROM ${visibleCharts} WHERE c.namespace = $1 AND c.name = $2`, [namespace, name]);
      return rows.map(toChartVersion);
    },
    async listChartVersionPage(namespace, cursor, limit) {
      const after = cursor ?? { repoId: 0, manifestId: 0 };
      const rows = await sql.rows<ChartRow & { repo_id: number; manifest_id: number }>(
        `SELECT ${visibleChartColumns}, c.repo_id, c.manifest_id FROM ${visibleCharts}
         WHERE c.namespace = $1 AND (c.repo_id, c.manifest_id) > ($2, $3) ORDER BY c.repo_id, c.manifest_id LIMIT $4`,
        [namespace, after.repoId, after.manifestId, limit],
      );
      const last = rows[rows.length - 1];
      const versions = rows.map(toChartVersion);
      return rows.length === limit && last ? { versions, next: { repoId: last.repo_id, manifestId: last.manifest_id } } : { versions };
    },
    async listRepositoryCharts(repository) {
      return (await sql.rows<ChartRow>(`SELECT ${visibleChartColumns} FROM ${visibleCharts} WHERE r.name = $1`, [repository])).map(toChartVersion);
    },
    async getChartVersion(namespace, name, version) {
      const row = await sql.one<ChartRow>(
        `SELECT c.*, f.readme, f.values_yaml, f.values_schema, r.name AS repository, m.digest AS manifest_digest FROM ${visibleCharts}
         LEFT JOIN chart_files f ON f.manifest_id = c.manifest_id WHERE c.namespace = $1 AND c.name = $2 AND c.version = $3`,
        [namespace, name, version],
      );
      return row && toChartVersion(row);
    },
    async listChartNamespaces() {
      return sql.rows<{ namespace: string; charts: number }>(
        `SELECT c.namespace, COUNT(DISTINCT c.name)::int AS charts FROM charts c
         JOIN tags t ON t.manifest_id = c.manifest_id AND t.name = c.version_tag GROUP BY c.namespace ORDER BY c.namespace`,
      );
    },

    async searchCharts(query) {
      return searchCharts(sql, query);
    },
    async chartNames() {
      return (await sql.rows<{ name_key: string }>('SELECT DISTINCT name_key FROM chart_search')).map((row) => row.name_key);
    },
    async rebuildSearchIndex() {
      return transaction(rebuildSearch);
    },

    async garbageBlobs(after, before, limit) {
      return garbageBlobs(sql, after, before, limit);
    },
    async forgetBlobs(digests, before) {
      const forgotten: string[] = [];
      // One transaction per blob: each holds that blob's lock only as long as it takes.
      for (const digest of digests) if (await transaction((tx) => forgetBlobIfGarbage(tx, digest, before))) forgotten.push(digest);
      return forgotten;
    },
    async hasBlob(digest) {
      return (await sql.one('SELECT 1 FROM blobs WHERE digest = $1', [digest])) !== undefined;
    },
    async removeUnrecordedBlob(digest, removeFile) {
      return transaction(async (tx) => {
        await lockBlob(tx, digest, 'exclusive');
        if ((await tx.one('SELECT 1 FROM blobs WHERE digest = $1', [digest])) || (await removalsHeld(tx))) return false;
        await removeFile();
        return true;
      });
    },
    async runAlone(name, work) {
      // A session-level lock on a connection of its own: it goes with the connection if this process dies.
      return postgres.withClient(async (client) => {
        const key = `run-alone:${name}`;
        const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked', [key]);
        if (!rows[0]?.locked) return { ran: false as const };
        try {
          return { ran: true as const, result: await work() };
        } finally {
          await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [key]);
        }
      });
    },
    async holdFileRemovals(name, until) {
      await sql.run('INSERT INTO holds (name, expires_at) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET expires_at = excluded.expires_at', [name, until]);
    },
    async releaseHold(name) {
      await sql.run('DELETE FROM holds WHERE name = $1', [name]);
    },
    async fileRemovalsHeld() {
      return removalsHeld(sql);
    },
    async garbageManifests(after, before, limit) {
      return garbageManifests(sql, after?.id ?? 0, before, limit);
    },
    async dropGarbageManifest(manifest, before) {
      const dropped = await transaction(async (tx) => {
        const repo = await repoId(tx, manifest.repository);
        if (repo === undefined) return false;
        await lockRepository(tx, repo);
        if (!(await dropManifestIfGarbage(tx, manifest.id, before))) return false;
        await afterChange(tx, repo, manifest.repository);
        return true;
      });
      if (dropped) changed(manifest.repository);
      return dropped;
    },

    async createRobotToken(t) {
      return (
        (await sql.run(
          'INSERT INTO robot_tokens (name, secret_hash, scopes, created_at, expires_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING',
          [t.name, t.secretHash, JSON.stringify(t.scopes), t.createdAt, t.expiresAt ?? null],
        )) > 0
      );
    },
    async findRobotToken(name) {
      const row = await sql.one<RobotRow>('SELECT * FROM robot_tokens WHERE name = $1', [name]);
      return row && toRobot(row);
    },
    async listRobotTokens() {
      return (await sql.rows<RobotRow>('SELECT * FROM robot_tokens ORDER BY name')).map(toRobot);
    },
    async revokeRobotToken(name, at) {
      return (await sql.run('UPDATE robot_tokens SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL', [at, name])) > 0;
    },

    async backupTo() {
      throw new Error('chartroom backup copies the embedded SQLite store; back up PostgreSQL with pg_dump and the object store with its own tools');
    },

    async stats() {
      return (await sql.one<MetadataStats>(
        `SELECT (SELECT COUNT(*) FROM repositories)::int AS repositories, (SELECT COUNT(DISTINCT repo_id) FROM charts)::int AS charts,
           (SELECT COUNT(*) FROM charts)::int AS "chartVersions", (SELECT COUNT(*) FROM blobs)::int AS blobs,
           (SELECT COALESCE(SUM(size), 0) FROM blobs)::bigint AS "blobBytes", (SELECT COUNT(*) FROM uploads)::int AS "uploadsInProgress"`,
      )) as MetadataStats;
    },
    async ping() {
      await sql.one('SELECT 1');
    },

    onChange(listener) {
      listeners.push(listener);
    },
    async syncChanges() {
      await feed.sync();
    },

    async close() {
      await feed.close();
      await postgres.close();
    },
  };
}

