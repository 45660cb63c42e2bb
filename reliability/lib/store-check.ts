// Reads a Chartroom data directory from outside the server (SQLite read-only, files by path) and
// lists every way it breaks its own rules: torn or misnamed blob files, rows that point at
// nothing. Safe while the server runs (WAL readers do not block the writer).
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import Database from 'better-sqlite3';

export interface StoreCheck {
  violations: string[];
  /** Blob files on disk, and how many of them were hashed this time (the rest were unchanged since). */
  blobFiles: number;
  hashedFiles: number;
  hashedBytes: number;
  /** Files in uploads/ and session rows. */
  uploadFiles: number;
  uploadSessions: number;
  counts: StoreCounts;
}

export interface StoreCounts {
  repositories: number;
  blobRows: number;
  links: number;
  manifests: number;
  tags: number;
  charts: number;
  uploadSessions: number;
  blobFiles: number;
  uploadFiles: number;
}

/** Blob files already hashed and found good, by path → `size:mtime` (content-addressed files never change). */
export type HashCache = Map<string, string>;

export async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path, { highWaterMark: 1024 * 1024 }), async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) hash.update(chunk);
  });
  return hash.digest('hex');
}

function listDir(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}

/** Every file below blobs/, as [relative path, full path]. */
function blobFiles(dataDir: string): [string, string][] {
  const root = join(dataDir, 'blobs');
  const files: [string, string][] = [];
  for (const algorithm of listDir(root)) {
    for (const prefix of listDir(join(root, algorithm))) {
      for (const name of listDir(join(root, algorithm, prefix))) files.push([`${algorithm}/${prefix}/${name}`, join(root, algorithm, prefix, name)]);
    }
  }
  return files;
}

/** Row and file counts, cheap enough to take before and after every request of a fuzz run. */
export function countStore(dataDir: string): StoreCounts {
  return withDb(dataDir, (db) => countRows(db, dataDir));
}

function withDb<T>(dataDir: string, work: (db: Database.Database) => T): T {
  const db = new Database(join(dataDir, 'chartroom.db'), { readonly: true, fileMustExist: true });
  try {
    db.exec('PRAGMA busy_timeout = 5000');
    return work(db);
  } finally {
    db.close();
  }
}

function countRows(db: Database.Database, dataDir: string): StoreCounts {
  const row = db
    .prepare(
      `SELECT (SELECT COUNT(*) FROM repositories) AS repositories, (SELECT COUNT(*) FROM blobs) AS blobRows,
        (SELECT COUNT(*) FROM repo_blobs) AS links, (SELECT COUNT(*) FROM manifests) AS manifests, (SELECT COUNT(*) FROM tags) AS tags,
        (SELECT COUNT(*) FROM charts) AS charts, (SELECT COUNT(*) FROM uploads) AS uploadSessions`,
    )
    .get() as Omit<StoreCounts, 'blobFiles' | 'uploadFiles'>;
  return { ...row, blobFiles: blobFiles(dataDir).length, uploadFiles: listDir(join(dataDir, 'uploads')).length };
}

/** Checks the whole store; blob files in `cache` with the same size and mtime are not hashed again. */
export async function checkStore(dataDir: string, cache: HashCache = new Map()): Promise<StoreCheck> {
  const violations: string[] = [];
  const { rows, sessions, counts } = withDb(dataDir, (db) => {
    const integrity = db.prepare('PRAGMA quick_check').pluck().all() as string[];
    if (integrity.join() !== 'ok') violations.push(`SQLite quick_check: ${integrity.slice(0, 5).join('; ')}`);
    const foreign = db.prepare('PRAGMA foreign_key_check').all();
    if (foreign.length > 0) violations.push(`${foreign.length} rows fail foreign_key_check, e.g. ${JSON.stringify(foreign[0])}`);
    const queries: [string, string][] = [
      [
        'tag points at a missing manifest',
        `SELECT r.name || ':' || t.name FROM tags t JOIN repositories r ON r.id = t.repo_id
         LEFT JOIN manifests m ON m.id = t.manifest_id WHERE m.id IS NULL`,
      ],
      [
        'manifest references a blob its repository does not hold',
        `SELECT r.name || '@' || m.digest || ' -> ' || mr.digest FROM manifest_refs mr JOIN manifests m ON m.id = mr.manifest_id
         JOIN repositories r ON r.id = m.repo_id LEFT JOIN repo_blobs l ON l.repo_id = m.repo_id AND l.digest = mr.digest
         WHERE mr.kind = 'blob' AND l.digest IS NULL`,
      ],
      [
        'manifest references a child manifest its repository does not hold',
        `SELECT r.name || '@' || m.digest || ' -> ' || mr.digest FROM manifest_refs mr JOIN manifests m ON m.id = mr.manifest_id
         JOIN repositories r ON r.id = m.repo_id LEFT JOIN manifests c ON c.repo_id = m.repo_id AND c.digest = mr.digest
         WHERE mr.kind = 'manifest' AND c.id IS NULL`,
      ],
      [
        'repository links a blob with no blob row',
        `SELECT r.name || ' -> ' || l.digest FROM repo_blobs l JOIN repositories r ON r.id = l.repo_id
         LEFT JOIN blobs b ON b.digest = l.digest WHERE b.digest IS NULL`,
      ],
    ];
    for (const [what, sql] of queries) {
      const found = db.prepare(sql).pluck().all() as string[];
      if (found.length > 0) violations.push(`${found.length}× ${what}: ${found.slice(0, 3).join(', ')}`);
    }
    return {
      rows: db.prepare('SELECT digest, size FROM blobs').all() as { digest: string; size: number }[],
      sessions: new Set(db.prepare('SELECT id FROM uploads').pluck().all() as string[]),
      counts: countRows(db, dataDir),
    };
  });

  for (const { digest, size } of rows) {
    const [algorithm = '', hex = ''] = digest.split(':');
    const file = join(dataDir, 'blobs', algorithm, hex.slice(0, 2), hex);
    const onDisk = existsSync(file) ? statSync(file).size : undefined;
    if (onDisk === undefined) violations.push(`blob row ${digest} has no file`);
    else if (onDisk !== size) violations.push(`blob ${digest}: row says ${size} bytes, file holds ${onDisk}`);
  }

  const files = blobFiles(dataDir);
  let hashedFiles = 0;
  let hashedBytes = 0;
  for (const [relative, full] of files) {
    const match = /^sha256\/([0-9a-f]{2})\/([0-9a-f]{64})$/.exec(relative);
    if (!match || !match[2]?.startsWith(match[1] as string)) {
      violations.push(`unexpected file in blobs/: ${relative}`);
      continue;
    }
    const info = statSync(full);
    const stamp = `${info.size}:${info.mtimeMs}`;
    if (cache.get(full) === stamp) continue;
    const actual = await hashFile(full);
    hashedFiles += 1;
    hashedBytes += info.size;
    if (actual !== match[2]) violations.push(`blob file ${relative} holds bytes hashing to ${actual}`);
    else cache.set(full, stamp);
  }

  const uploads = listDir(join(dataDir, 'uploads'));
  return { violations, blobFiles: files.length, hashedFiles, hashedBytes, uploadFiles: uploads.length, uploadSessions: sessions.size, counts };
}
