import { createGunzip } from 'node:zlib';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Parser, type ReadEntry } from 'tar';

/** A chart archive is refused for one of these, with a message a user can act on. */
export class ChartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChartError';
  }
}

export interface ArchiveLimits {
  /** Decompressed bytes of the whole archive (a zip bomb stops here). */
  maxUnpackedBytes: number;
  /** Each kept file: Chart.yaml, README, values.yaml, values.schema.json. */
  maxFileBytes: number;
}

/** The files of a chart that Chartroom keeps; only the chart's own, not its subcharts'. */
export interface ChartFiles {
  /** The archive's top-level folder, by convention the chart's name. */
  directory: string;
  chartYaml: string;
  readme?: string;
  values?: string;
  valuesSchema?: string;
}

type Kept = 'chartYaml' | 'readme' | 'values' | 'valuesSchema';

function keptFile(name: string): Kept | undefined {
  if (name === 'Chart.yaml') return 'chartYaml';
  if (name === 'values.yaml') return 'values';
  if (name === 'values.schema.json') return 'valuesSchema';
  if (/^readme(\.md|\.markdown|\.txt)?$/i.test(name)) return 'readme';
  return undefined;
}

/** Counts decompressed bytes and stops the stream past the limit. */
function unpackedLimit(limit: number): Transform {
  let total = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback) {
      total += chunk.length;
      if (total > limit) return done(new ChartError(`the chart unpacks to more than ${limit} bytes`));
      done(null, chunk);
    },
  });
}

/**
 * Reads a chart `.tgz` as a stream: gunzip, then tar, keeping the chart's own Chart.yaml,
 * README, values.yaml and values.schema.json. Anything that is not a well-formed chart
 * archive is a ChartError.
 */
export async function readChartArchive(source: Readable, limits: ArchiveLimits): Promise<ChartFiles> {
  const found: Partial<Record<Kept, string>> = {};
  let directory: string | undefined;
  let problem: ChartError | undefined;
  const fail = (message: string): void => {
    problem ??= new ChartError(message);
  };

  const parser = new Parser({
    strict: true,
    onReadEntry: (entry: ReadEntry) => {
      const path = entry.path.replace(/^\.\//, '');
      const parts = path.split('/').filter((part) => part !== '');
      if (path.startsWith('/') || parts.includes('..') || /^[a-zA-Z]:/.test(path)) {
        fail(`the chart archive has an unsafe path: ${path.slice(0, 100)}`);
      } else if (parts.length > 0) {
        directory ??= parts[0];
        if (parts[0] !== directory) fail('a chart archive holds exactly one top-level folder');
      }
      const kept = parts.length === 2 && entry.type === 'File' ? keptFile(parts[1] as string) : undefined;
      if (!kept || problem) {
        entry.resume();
        return;
      }
      if (entry.size > limits.maxFileBytes) {
        fail(`${parts[1]} is larger than ${limits.maxFileBytes} bytes`);
        entry.resume();
        return;
      }
      const chunks: Buffer[] = [];
      entry.on('data', (chunk: Buffer) => chunks.push(chunk));
      entry.on('end', () => {
        found[kept] = Buffer.concat(chunks).toString('utf8');
      });
    },
  });

  // Reading stops at the end-of-archive blocks: whatever follows (a gzip bomb's zeros) is not
  // unpacked. Fed on, the tar parser spent CPU time growing with the square of the trailing bytes
  // (minutes for a 300 KB upload).
  const archiveEnded = new AbortController();
  parser.once('eof', () => archiveEnded.abort());
  try {
    await pipeline(source, createGunzip(), unpackedLimit(limits.maxUnpackedBytes), parser, { signal: archiveEnded.signal });
  } catch (err) {
    if (err instanceof ChartError) throw err;
    // Once the end-of-archive was read, what the stopped streams report (an abort, a premature
    // close, depending on Node's version and timing) is about bytes that do not matter.
    if (!archiveEnded.signal.aborted) throw readError(err);
  }
  if (problem) throw problem;

  if (directory === undefined) throw new ChartError('the chart archive is empty');
  if (found.chartYaml === undefined) throw new ChartError(`the chart archive has no ${directory}/Chart.yaml`);
  return { directory, ...found, chartYaml: found.chartYaml };
}

function readError(err: unknown): ChartError {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  if (code.startsWith('Z_')) return new ChartError('the chart is not a valid gzip archive');
  return new ChartError(`the chart is not a valid tar archive (${(err as Error).message.slice(0, 100)})`);
}
