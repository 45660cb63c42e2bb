import type { GarbageManifest } from '../db/metadata.js';
import type { RegistryContext } from './context.js';

export interface GcOptions {
  /** What was stored or linked within this many seconds stays: its manifest may still be on its way. */
  graceSeconds: number;
  /** Also remove manifests that no tag, index or live subject keeps (and then what only they referenced). */
  untagged: boolean;
  /** Report what would go, remove nothing. */
  dryRun: boolean;
  /** Told about each thing removed (or, on a dry run, that would be). */
  onItem?: ((item: GcItem) => void) | undefined;
}

export type GcItem =
  | { kind: 'manifest'; repository: string; digest: string; size: number }
  | { kind: 'blob'; digest: string; size: number }
  /** A file under blobs/ that no record names (left by a crash between storing and recording). */
  | { kind: 'file'; digest: string; size: number };

export interface Tally {
  count: number;
  bytes: number;
}

export interface GcReport {
  dryRun: boolean;
  /** Files stayed because a backup held removals; the next collection takes them. */
  held: boolean;
  manifests: Tally;
  blobs: Tally;
  files: Tally;
  durationMs: number;
}

const pageSize = 500;

export class GcRunningError extends Error {
  constructor() {
    super('a garbage collection is already running (here or in another process sharing the metadata store)');
    this.name = 'GcRunningError';
  }
}

/**
 * Online mark and sweep over SQLite's references. Records go first, each in a transaction that
 * checks again that it is still garbage, then the files, each under the write lock that blob
 * registration takes (see sqlite-gc.ts): pushes and pulls go on meanwhile and never lose
 * anything referenced. Several processes may collect at once; SQLite serializes them.
 */
export function createGarbageCollector(ctx: RegistryContext) {
  const { metadata, blobs } = ctx;
  let running: Promise<GcReport> | undefined;
  let stopping = false;

  async function sweepManifests(before: number, options: GcOptions, tally: Tally): Promise<void> {
    let after: GarbageManifest | undefined;
    for (;;) {
      const page = await metadata.garbageManifests(after, before, pageSize);
      for (const manifest of page) {
        if (options.dryRun || (await metadata.dropGarbageManifest(manifest, before))) {
          count(tally, manifest.size);
          options.onItem?.({ kind: 'manifest', repository: manifest.repository, digest: manifest.digest, size: manifest.size });
        }
      }
      after = page[page.length - 1];
      if (page.length < pageSize || stopping) return;
    }
  }

  async function sweepBlobs(before: number, options: GcOptions, tally: Tally): Promise<void> {
    let after = '';
    for (;;) {
      const page = await metadata.garbageBlobs(after, before, pageSize);
      const sizes = new Map(page.map((blob) => [blob.digest, blob.size]));
      const gone = options.dryRun ? [...sizes.keys()] : await metadata.forgetBlobs([...sizes.keys()], before);
      for (const digest of gone) {
        if (!options.dryRun) await metadata.removeUnrecordedBlob(digest, () => blobs.remove(digest));
        const size = sizes.get(digest) ?? 0;
        count(tally, size);
        options.onItem?.({ kind: 'blob', digest, size });
      }
      after = page[page.length - 1]?.digest ?? after;
      if (page.length < pageSize || stopping) return;
    }
  }

  async function sweepFiles(before: number, options: GcOptions, tally: Tally): Promise<void> {
    for await (const file of blobs.list()) {
      if (stopping) return;
      if (file.changedAt >= before || (await metadata.hasBlob(file.digest))) continue;
      if (options.dryRun || (await metadata.removeUnrecordedBlob(file.digest, () => blobs.remove(file.digest)))) {
        count(tally, file.size);
        options.onItem?.({ kind: 'file', digest: file.digest, size: file.size });
      }
    }
  }

  async function collect(options: GcOptions): Promise<GcReport> {
    const started = performance.now();
    const before = ctx.now() - options.graceSeconds * 1000;
    const report: GcReport = { dryRun: options.dryRun, held: false, manifests: tally(), blobs: tally(), files: tally(), durationMs: 0 };
    if (options.untagged) await sweepManifests(before, options, report.manifests);
    report.held = await metadata.fileRemovalsHeld();
    if (!report.held) {
      await sweepBlobs(before, options, report.blobs);
      await sweepFiles(before, options, report.files);
    }
    report.durationMs = Math.round(performance.now() - started);
    return report;
  }

  return {
    /** One collection; refused with GcRunningError while another runs in this process. */
    async run(options: GcOptions): Promise<GcReport> {
      if (running) throw new GcRunningError();
      if (stopping) throw new Error('garbage collection is stopped');
      running = metadata.runAlone('garbage-collection', () => collect(options)).then((outcome) => {
        if (!outcome.ran) throw new GcRunningError();
        return outcome.result;
      });
      try {
        return await running;
      } finally {
        running = undefined;
      }
    },
    /** Ends a running collection after its current page (what it removed so far stays removed). */
    async stop(): Promise<void> {
      stopping = true;
      await running?.catch(() => undefined);
    },
  };
}

export type GarbageCollector = ReturnType<typeof createGarbageCollector>;

function tally(): Tally {
  return { count: 0, bytes: 0 };
}

function count(into: Tally, bytes: number): void {
  into.count++;
  into.bytes += bytes;
}
