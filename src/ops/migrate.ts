import { createHash } from 'node:crypto';
import type { Metadata } from '../db/metadata.js';
import type { EmbeddedExport, ExportedManifest } from '../db/sqlite-export.js';
import { DigestMismatchError, type BlobStore } from '../storage/blob-store.js';

export class MigrateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MigrateError';
  }
}

export interface MigrateReport {
  blobs: { copied: number; present: number; bytes: number };
  links: number;
  manifests: number;
  tags: number;
  robots: number;
  durationMs: number;
}

export interface MigrateOptions {
  /** Blob copies in flight at once (object stores like several). */
  parallel: number;
  /** Told of progress, a line at a time. */
  progress: (line: string) => void;
}

const sha256 = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/**
 * Copies an embedded registry (its database and blob files) into other stores (PostgreSQL, S3),
 * through their interfaces, so the target enforces its own rules. Resumable: blobs the target
 * holds already are skipped, links and manifests are written idempotently, so running it again
 * after a failure (or once more with the source stopped, to catch up) finishes the job. Every
 * blob is hashed on its way (the target's upload checks the digest) and every manifest's bytes
 * are checked against their digest. Upload sessions are not carried over.
 */
export async function migrate(
  source: { database: EmbeddedExport; blobs: BlobStore },
  target: { metadata: Metadata; blobs: BlobStore },
  options: MigrateOptions,
): Promise<MigrateReport> {
  const started = performance.now();
  const report: MigrateReport = { blobs: { copied: 0, present: 0, bytes: 0 }, links: 0, manifests: 0, tags: 0, robots: 0, durationMs: 0 };

  const blobs = source.database.blobs();
  options.progress(`blobs: ${blobs.length} recorded`);
  let next = 0;
  // After a failure the other copies take no new blob, and the run ends only once they are done:
  // nothing goes on writing to the target after migrate has said it stopped.
  let failed = false;
  const copyNext = async (): Promise<void> => {
    for (let i = next++; i < blobs.length && !failed; i = next++) {
      const blob = blobs[i] as (typeof blobs)[number];
      if ((await target.blobs.stat(blob.digest))?.size === blob.size) {
        report.blobs.present += 1;
        continue;
      }
      await copyBlob(source.blobs, target.blobs, blob);
      report.blobs.copied += 1;
      report.blobs.bytes += blob.size;
      const done = report.blobs.copied + report.blobs.present;
      if (done % 500 === 0) options.progress(`blobs: ${done} of ${blobs.length}`);
    }
  };
  const copies = await Promise.allSettled(
    Array.from({ length: Math.max(1, options.parallel) }, () =>
      copyNext().catch((err: unknown) => {
        failed = true;
        throw err;
      }),
    ),
  );
  const failure = copies.find((copy): copy is PromiseRejectedResult => copy.status === 'rejected');
  if (failure) throw failure.reason;
  options.progress(`blobs: ${report.blobs.copied} copied (${report.blobs.bytes} bytes), ${report.blobs.present} already there`);

  for (const link of source.database.links()) {
    await target.metadata.linkNewBlob(link.repository, { digest: link.digest, size: link.size }, () => target.blobs.has(link.digest));
    report.links += 1;
  }
  options.progress(`links: ${report.links}`);

  for (const manifest of inPushableOrder(source.database.manifests())) {
    if (sha256(manifest.content) !== manifest.digest) throw new MigrateError(`manifest ${manifest.repository}@${manifest.digest} does not match its digest`);
    // One write per tag (the first carries the manifest itself); an untagged manifest is written once.
    for (const tag of manifest.tags.length > 0 ? manifest.tags : [undefined]) {
      const result = await target.metadata.putManifest({
        repository: manifest.repository,
        chart: manifest.chart,
        digest: manifest.digest,
        mediaType: manifest.mediaType,
        artifactType: manifest.artifactType,
        subject: manifest.subject,
        annotations: manifest.annotations,
        content: manifest.content,
        refs: manifest.refs,
        tag,
        createdAt: manifest.createdAt,
      });
      if (!result.ok) throw new MigrateError(`manifest ${manifest.repository}@${manifest.digest} refused by the target: ${JSON.stringify(result)}`);
      if (tag !== undefined) report.tags += 1;
    }
    report.manifests += 1;
    if (report.manifests % 1000 === 0) options.progress(`manifests: ${report.manifests}`);
  }
  options.progress(`manifests: ${report.manifests}, tags: ${report.tags}`);

  const existing = new Set((await target.metadata.listRobotTokens()).map((robot) => robot.name));
  for (const robot of source.database.robots()) {
    if (existing.has(robot.name)) continue;
    await target.metadata.createRobotToken(robot);
    if (robot.revokedAt !== undefined) await target.metadata.revokeRobotToken(robot.name, robot.revokedAt);
    report.robots += 1;
  }
  options.progress(`robot tokens: ${report.robots} copied`);
  report.durationMs = Math.round(performance.now() - started);
  return report;
}

async function copyBlob(from: BlobStore, to: BlobStore, blob: { digest: string; size: number }): Promise<void> {
  const id = await to.startUpload();
  let state: string | undefined;
  try {
    ({ state } = await to.append(id, await from.open(blob.digest), 0));
    await to.commit(id, blob.digest, blob.size, state);
  } catch (err) {
    if (err instanceof DigestMismatchError) throw new MigrateError(`blob ${blob.digest} is damaged in the source: its bytes hash to ${err.actual}`);
    throw new MigrateError(`blob ${blob.digest} could not be copied: ${(err as Error).message}`);
  } finally {
    await to.abort(id, state).catch(() => undefined);
  }
}

/**
 * Manifests in an order the target accepts: an index only after the manifests it lists (push
 * order, except where a listed manifest was pushed again later).
 */
function* inPushableOrder(manifests: Iterable<ExportedManifest>): Generator<ExportedManifest> {
  const written = new Set<string>();
  let waiting: ExportedManifest[] = [];
  const ready = (m: ExportedManifest): boolean => m.refs.every((ref) => ref.kind !== 'manifest' || written.has(`${m.repository}@${ref.digest}`));
  const release = function* (): Generator<ExportedManifest> {
    for (let progress = true; progress; ) {
      progress = false;
      const still: ExportedManifest[] = [];
      for (const m of waiting) {
        if (!ready(m)) {
          still.push(m);
          continue;
        }
        written.add(`${m.repository}@${m.digest}`);
        progress = true;
        yield m;
      }
      waiting = still;
    }
  };
  for (const manifest of manifests) {
    waiting.push(manifest);
    yield* release();
  }
  // Whatever still waits names a manifest the source does not have; the target refuses it and says so.
  yield* waiting;
}
