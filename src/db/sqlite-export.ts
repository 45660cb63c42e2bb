import Database from 'better-sqlite3';
import { retain, type Db } from './database.js';
import type { BlobRecord, ChartRecord, ManifestRef, NewManifest, RobotToken } from './metadata.js';
import { toChartRecord, toRobot, type ChartRow, type RobotRow } from './rows.js';

/** A manifest of the embedded store with everything that hangs on it, as a migration carries it over. */
export interface ExportedManifest extends Omit<NewManifest, 'chart' | 'chartVersionsImmutable' | 'tag'> {
  tags: string[];
  chart: ChartRecord | undefined;
}

interface ManifestRow {
  id: number;
  repository: string;
  digest: string;
  media_type: string;
  artifact_type: string | null;
  subject: string | null;
  annotations: string | null;
  content: Buffer;
  created_at: number;
}

/**
 * Reads an embedded store's database without changing it (a migration's source). Every list is
 * read in one pass, in a stable order: blobs by digest, manifests by repository and push order.
 */
export function openEmbeddedExport(file: string) {
  const db: Db = new Database(file, { readonly: true, fileMustExist: true });
  const check = retain(db, db.prepare<[], string>('PRAGMA quick_check').pluck()).get();
  if (check !== 'ok') {
    db.close();
    throw new Error(`${file} is damaged: ${check}`);
  }
  const q = {
    blobs: retain(db, db.prepare<[], BlobRecord>('SELECT digest, size FROM blobs ORDER BY digest')),
    links: retain(db, db.prepare<[], { repository: string; digest: string; size: number }>(
      `SELECT r.name AS repository, l.digest, b.size FROM repo_blobs l JOIN repositories r ON r.id = l.repo_id
       JOIN blobs b ON b.digest = l.digest ORDER BY r.name, l.digest`,
    )),
    manifestIds: retain(db, db.prepare<[], number>('SELECT m.id FROM manifests m JOIN repositories r ON r.id = m.repo_id ORDER BY r.name, m.id').pluck()),
    manifest: retain(db, db.prepare<[number], ManifestRow>(
      `SELECT m.id, r.name AS repository, m.digest, m.media_type, m.artifact_type, m.subject, m.annotations, m.content, m.created_at
       FROM manifests m JOIN repositories r ON r.id = m.repo_id WHERE m.id = ?`,
    )),
    refs: retain(db, db.prepare<[number], ManifestRef>('SELECT kind, digest FROM manifest_refs WHERE manifest_id = ? ORDER BY kind, digest')),
    tags: retain(db, db.prepare<[number], string>('SELECT name FROM tags WHERE manifest_id = ? ORDER BY name').pluck()),
    chart: retain(db, db.prepare<[number], ChartRow>(
      `SELECT c.*, f.readme, f.values_yaml, f.values_schema FROM charts c LEFT JOIN chart_files f ON f.manifest_id = c.manifest_id
       WHERE c.manifest_id = ?`,
    )),
    robots: retain(db, db.prepare<[], RobotRow>('SELECT * FROM robot_tokens ORDER BY name')),
  };

  return {
    blobs(): BlobRecord[] {
      return q.blobs.all();
    },
    /** Which repository links which blob. */
    links(): { repository: string; digest: string; size: number }[] {
      return q.links.all();
    },
    /** One at a time (each may be megabytes): the ids are read first, a connection runs one statement at a time. */
    *manifests(): Generator<ExportedManifest> {
      for (const id of q.manifestIds.all()) {
        const row = q.manifest.get(id) as ManifestRow;
        const chart = q.chart.get(row.id);
        yield {
          repository: row.repository,
          digest: row.digest,
          mediaType: row.media_type,
          artifactType: row.artifact_type ?? undefined,
          subject: row.subject ?? undefined,
          annotations: row.annotations === null ? undefined : (JSON.parse(row.annotations) as Record<string, string>),
          content: row.content,
          createdAt: row.created_at,
          refs: q.refs.all(row.id),
          tags: q.tags.all(row.id),
          chart: chart && toChartRecord(chart),
        };
      }
    },
    robots(): RobotToken[] {
      return q.robots.all().map(toRobot);
    },
    close(): void {
      db.close();
    },
  };
}

export type EmbeddedExport = ReturnType<typeof openEmbeddedExport>;
