import { randomUUID } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { cp, mkdir, open, readdir, readFile, rename, rm, rmdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { recordedBlobs } from '../db/sqlite-backup.js';
import type { BlobRecord, Metadata } from '../db/metadata.js';
import type { BlobStore } from '../storage/blob-store.js';
import { blobFile, createDiskBlobStore } from '../storage/disk-blob-store.js';
import { syncPath } from '../storage/fs-calls.js';
import { packageVersion } from '../version.js';

/** What `backup.json` says of a backup; `format` changes when the layout does. */
export interface BackupManifest {
  format: 1;
  chartroomVersion: string;
  createdAt: string;
  blobs: number;
  bytes: number;
}

export interface CopyReport {
  blobs: number;
  bytes: number;
  durationMs: number;
}

const manifestFile = 'backup.json';
const databaseFile = 'chartroom.db';
/** Copied beside the database: the token signing key lives there. */
const extraDirs = ['auth'];
const holdMs = 10 * 60_000;
const holdRenewMs = 60_000;

export class BackupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupError';
  }
}

/**
 * A consistent backup of a registry that keeps serving: garbage collection's file removals are
 * held, the database is copied with SQLite's online backup, then every blob the copy records is
 * copied and its digest checked. The result is a data directory (`chartroom.db`, `blobs/`) plus
 * `backup.json`; `restore` checks it again and puts it in place.
 */
export async function backup(stores: { metadata: Metadata; blobs: BlobStore }, dataDir: string, target: string): Promise<CopyReport> {
  const started = performance.now();
  await requireEmpty(target, 'the backup directory');
  await mkdir(target, { recursive: true });
  const hold = `backup-${randomUUID()}`;
  await stores.metadata.holdFileRemovals(hold, Date.now() + holdMs);
  const renew = setInterval(() => void stores.metadata.holdFileRemovals(hold, Date.now() + holdMs), holdRenewMs).unref();
  try {
    const recorded = await stores.metadata.backupTo(join(target, databaseFile));
    const bytes = await copyBlobs(recorded, (digest) => stores.blobs.open(digest), target);
    await copyExtras(dataDir, target);
    const manifest: BackupManifest = { format: 1, chartroomVersion: packageVersion(), createdAt: new Date().toISOString(), blobs: recorded.length, bytes };
    await writeDurably(join(target, manifestFile), `${JSON.stringify(manifest, null, 2)}\n`);
    return { blobs: recorded.length, bytes, durationMs: Math.round(performance.now() - started) };
  } finally {
    clearInterval(renew);
    await stores.metadata.releaseHold(hold);
  }
}

/**
 * Restores a backup into a data directory that is absent or empty (never over a registry's
 * data): everything is checked and written beside it first, then renamed into place.
 */
export async function restore(source: string, dataDir: string): Promise<CopyReport> {
  const started = performance.now();
  const manifest = await readManifest(source);
  await requireEmpty(dataDir, 'the data directory');
  const staging = `${dataDir.replace(/\/+$/, '')}.restoring-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  try {
    let recorded: BlobRecord[];
    try {
      recorded = recordedBlobs(join(source, databaseFile));
    } catch (err) {
      throw new BackupError(`cannot read the backup's database: ${(err as Error).message}`);
    }
    if (recorded.length !== manifest.blobs) throw new BackupError(`backup.json names ${manifest.blobs} blobs, the database ${recorded.length}`);
    await cp(join(source, databaseFile), join(staging, databaseFile));
    await syncPath(join(staging, databaseFile));
    const bytes = await copyBlobs(recorded, async (digest) => openFile(blobFile(source, digest)), staging);
    await copyExtras(source, staging);
    if (existsSync(dataDir)) await rmdir(dataDir);
    await rename(staging, dataDir);
    await syncPath(dirname(resolve(dataDir)));
    return { blobs: recorded.length, bytes, durationMs: Math.round(performance.now() - started) };
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
}

/** Writes each blob through a disk blob store, which hashes, checks the digest and fsyncs. */
async function copyBlobs(recorded: BlobRecord[], openBlob: (digest: string) => Promise<Readable>, targetRoot: string): Promise<number> {
  const target = await createDiskBlobStore(targetRoot);
  let bytes = 0;
  for (const blob of recorded) {
    const id = await target.startUpload();
    try {
      let source: Readable;
      try {
        source = await openBlob(blob.digest);
      } catch (err) {
        throw new BackupError(`blob ${blob.digest} is recorded but cannot be read: ${(err as Error).message}`);
      }
      const { size } = await target.append(id, source, 0);
      await target.commit(id, blob.digest, size).catch((err: Error) => {
        throw new BackupError(`blob ${blob.digest} is damaged: ${err.message}`);
      });
      bytes += blob.size;
    } finally {
      await target.abort(id);
    }
  }
  await rm(join(targetRoot, 'uploads'), { recursive: true, force: true });
  return bytes;
}

async function copyExtras(from: string, to: string): Promise<void> {
  for (const dir of extraDirs) {
    if (existsSync(join(from, dir))) await cp(join(from, dir), join(to, dir), { recursive: true, preserveTimestamps: true });
  }
}

async function readManifest(source: string): Promise<BackupManifest> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(join(source, manifestFile), 'utf8'));
  } catch (err) {
    throw new BackupError(`${source} is not a Chartroom backup (${manifestFile}: ${(err as Error).message})`);
  }
  const manifest = parsed as Partial<BackupManifest>;
  if (manifest.format !== 1 || typeof manifest.blobs !== 'number') throw new BackupError(`${join(source, manifestFile)} is not a backup manifest this version reads`);
  return manifest as BackupManifest;
}

async function requireEmpty(dir: string, what: string): Promise<void> {
  const entries = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
  if (entries.length > 0) throw new BackupError(`${what} ${dir} is not empty`);
}

function openFile(path: string): Promise<Readable> {
  const stream = createReadStream(path);
  return new Promise((resolve, reject) => {
    stream.once('open', () => resolve(stream));
    stream.once('error', reject);
  });
}

async function writeDurably(path: string, text: string): Promise<void> {
  const handle = await open(path, 'w');
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
