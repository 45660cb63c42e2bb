import { createReadStream, existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { parse as parseYaml } from 'yaml';
import type { ChangeSource } from '../registry/changes.js';
import type { ChartUploads, StagedUpload } from '../registry/chart-upload.js';

/** One chart version a classic repository offers. */
interface IndexedChart {
  /** `name-version`, or the file name when there is no index. */
  label: string;
  /** Where the .tgz is: a URL, or a path under the repository directory. */
  location: string;
  /** The index's sha256 of the .tgz (hex), checked when present. */
  digest?: string | undefined;
}

export interface ImportReport {
  imported: number;
  /** Already stored with the same content. */
  unchanged: number;
  failed: { chart: string; error: string }[];
}

export class ImportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImportError';
  }
}

const maxIndexBytes = 256 * 1024 * 1024;

/**
 * Pulls every chart version of a classic Helm repository — a directory (with or without
 * index.yaml) or the URL of an index.yaml — into a namespace, each stored as the OCI artifact
 * `helm push` makes, with its provenance file when the repository has one. Versions already
 * stored unchanged are skipped, so an interrupted import can simply run again.
 */
export async function importRepository(
  chartUploads: ChartUploads,
  source: string,
  options: { namespace: string; maxChartBytes: number; onChart?: (chart: string, outcome: string) => void },
): Promise<ImportReport> {
  const remote = /^https?:\/\//i.test(source);
  const charts = remote ? await remoteIndex(source) : await directoryIndex(source);
  const open = (location: string): Promise<Readable | undefined> => (isUrl(location) ? download(location) : openLocal(location));
  const origin: ChangeSource = { actor: { kind: 'anonymous' }, requestId: 'import', host: 'chartroom import', origin: '' };
  const report: ImportReport = { imported: 0, unchanged: 0, failed: [] };

  for (const chart of charts) {
    const label = chart.label;
    try {
      const body = await open(chart.location);
      if (!body) throw new ImportError(`${chart.location} not found`);
      const upload: StagedUpload = {};
      try {
        upload.chart = await chartUploads.store(body, options.maxChartBytes);
        if (chart.digest !== undefined && upload.chart.digest !== `sha256:${chart.digest.toLowerCase()}`) {
          throw new ImportError(`${chart.location} does not match the index's digest sha256:${chart.digest}`);
        }
        const provBody = await open(`${chart.location}.prov`);
        if (provBody) upload.prov = await chartUploads.store(provBody, options.maxChartBytes);
        const outcome = await chartUploads.publish(options.namespace, upload, async () => undefined, origin);
        if (outcome === 'unchanged') report.unchanged++;
        else report.imported++;
        options.onChart?.(label, outcome);
      } finally {
        await chartUploads.discard(upload);
      }
    } catch (err) {
      const error = (err as Error).message;
      report.failed.push({ chart: label, error });
      options.onChart?.(label, `failed: ${error}`);
    }
  }
  return report;
}

async function remoteIndex(url: string): Promise<IndexedChart[]> {
  const indexUrl = url.endsWith('.yaml') || url.endsWith('.json') ? url : `${url.replace(/\/+$/, '')}/index.yaml`;
  const res = await fetch(indexUrl).catch((err: Error) => {
    throw new ImportError(`cannot fetch ${indexUrl}: ${err.message}`);
  });
  if (!res.ok) throw new ImportError(`${indexUrl} answered ${res.status}`);
  const text = await res.text();
  return chartsOfIndex(text, indexUrl, (location) => new URL(location, indexUrl).toString());
}

async function directoryIndex(dir: string): Promise<IndexedChart[]> {
  if (!existsSync(dir)) throw new ImportError(`${dir} does not exist`);
  const indexFile = join(dir, 'index.yaml');
  if (existsSync(indexFile)) {
    return chartsOfIndex(await readFile(indexFile, 'utf8'), indexFile, (location) => (isUrl(location) ? location : resolve(dir, location)));
  }
  // No index: every package in the directory, named as `helm package` names them.
  const files = (await readdir(dir)).filter((file) => file.endsWith('.tgz')).sort();
  return files.map((file) => ({ label: file, location: join(dir, file) }));
}

function chartsOfIndex(text: string, where: string, locate: (location: string) => string): IndexedChart[] {
  if (text.length > maxIndexBytes) throw new ImportError(`${where} is larger than ${maxIndexBytes} bytes`);
  let index: unknown;
  try {
    index = parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    throw new ImportError(`${where} is not a chart repository index: ${(err as Error).message}`);
  }
  const entries = (index as { entries?: unknown } | null)?.entries;
  if (typeof entries !== 'object' || entries === null) throw new ImportError(`${where} has no entries`);
  const charts: IndexedChart[] = [];
  for (const [name, versions] of Object.entries(entries)) {
    for (const entry of Array.isArray(versions) ? (versions as unknown[]) : []) {
      const { version, urls, digest } = (entry ?? {}) as { version?: unknown; urls?: unknown; digest?: unknown };
      const url = Array.isArray(urls) ? urls.find((u): u is string => typeof u === 'string') : undefined;
      if (typeof version !== 'string' || url === undefined) throw new ImportError(`${where}: an entry of ${name} has no version or URL`);
      charts.push({ label: `${name}-${version}`, location: locate(url), digest: typeof digest === 'string' && /^[0-9a-f]{64}$/i.test(digest) ? digest : undefined });
    }
  }
  return charts;
}

function isUrl(location: string): boolean {
  return /^https?:\/\//i.test(location);
}

async function download(url: string): Promise<Readable | undefined> {
  const res = await fetch(url);
  if (res.status === 404) return undefined;
  if (!res.ok || !res.body) throw new ImportError(`${url} answered ${res.status}`);
  return Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
}

async function openLocal(path: string): Promise<Readable | undefined> {
  if (!existsSync(path)) return undefined;
  const stream = createReadStream(path);
  await new Promise<void>((resolveOpen, reject) => {
    stream.once('open', () => resolveOpen());
    stream.once('error', reject);
  });
  return stream;
}
