import Database from 'better-sqlite3';
import { retain, type Db } from './database.js';
import type { BlobRecord } from './metadata.js';

/**
 * Copies the database with SQLite's online backup (a consistent snapshot while others write),
 * then drops from the copy what belongs to the running process only: upload sessions (their
 * bytes are not copied), holds, the change log. Returns the blobs the copy records.
 */
export async function backupDatabase(db: Db, file: string): Promise<BlobRecord[]> {
  await db.backup(file);
  const copy = new Database(file);
  try {
    copy.exec('PRAGMA journal_mode = DELETE; DELETE FROM uploads; DELETE FROM holds; DELETE FROM change_log; PRAGMA synchronous = FULL;');
    return recordedBlobsOf(copy);
  } finally {
    copy.close();
  }
}

/** The blobs a database file records, read without changing it. */
export function recordedBlobs(file: string): BlobRecord[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const check = retain(db, db.prepare<[], string>('PRAGMA quick_check').pluck()).get();
    if (check !== 'ok') throw new Error(`${file} is damaged: ${check}`);
    return recordedBlobsOf(db);
  } finally {
    db.close();
  }
}

function recordedBlobsOf(db: Db): BlobRecord[] {
  return retain(db, db.prepare<[], BlobRecord>('SELECT digest, size FROM blobs ORDER BY digest')).all();
}
