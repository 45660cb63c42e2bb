import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import semver from 'semver';
import { assembleIndex, renderEntry, type IndexEntry, type RenderedEntry } from '../charts/index-document.js';
import type { ChartVersion } from '../db/metadata.js';
import type { RegistryContext } from './context.js';
import { namespaceOf } from './chart-ingest.js';

const gzipAsync = promisify(gzip);

export type IndexFormat = 'yaml' | 'json';

/** A rendered index and its validator; the gzip form is made on first request and kept. */
export interface IndexDocument {
  body: Buffer;
  etag: string;
  gzipped(): Promise<Buffer>;
}

/** File name of a chart version in a classic repository. */
export function chartFileName(name: string, version: string): string {
  return `${name}-${version}.tgz`;
}

/** Stands for the registry's host in cached renderings; swapped for the request's host when served. */
const hostPlaceholder = 'chartroom-host.invalid';
const hostPattern = /^[A-Za-z0-9.-]+(?::\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](?::\d{1,5})?$/;

/** A chart version as index.yaml (and ChartMuseum's API) show it. */
export function toEntry(version: ChartVersion, urls: 'relative' | 'oci' = 'relative'): IndexEntry {
  const [algorithm, hex] = version.chartDigest.split(':');
  return {
    ...version.metadata,
    urls: [
      urls === 'oci'
        ? `oci://${hostPlaceholder}/${version.repository}:${version.versionTag}`
        : `charts/${chartFileName(version.name, version.version)}`,
    ],
    created: new Date(version.createdAt).toISOString(),
    // Helm checks (and Helm 4 caches by) the .tgz's sha256; another algorithm is left out.
    ...(algorithm === 'sha256' ? { digest: hex } : {}),
  };
}

function newestFirst(a: ChartVersion, b: ChartVersion): number {
  return semver.rcompare(a.version, b.version) || a.name.localeCompare(b.name);
}

interface NamespaceCache {
  /** Rendered entries per repository, newest version first; absent = to be read again. */
  repositories: Map<string, RenderedEntry[]>;
  /** Repositories changed since their entries were rendered. */
  stale: Set<string>;
  complete: boolean;
  generation: number;
  /** Assembled documents by format (and host, when URLs name it). */
  documents: Map<string, IndexDocument>;
}

/**
 * Classic repository indexes, one per namespace, rendered from SQLite and kept in memory.
 * A change to a repository re-renders only that repository's entries; the document is then
 * reassembled from the cached entries of the others.
 */
export function createChartIndex(ctx: RegistryContext) {
  const { metadata, config } = ctx;
  const urls = config.charts.indexUrls;
  const boot = randomBytes(4).toString('hex');
  const namespaces = new Map<string, NamespaceCache>();
  let changes = 0;

  metadata.onChange((repository) => {
    changes += 1;
    const cache = namespaces.get(namespaceOf(repository));
    if (!cache) return;
    cache.stale.add(repository);
    cache.generation += 1;
    cache.documents = new Map();
  });

  function render(versions: ChartVersion[]): Map<string, RenderedEntry[]> {
    const byRepository = new Map<string, RenderedEntry[]>();
    for (const version of [...versions].sort(newestFirst)) {
      const list = byRepository.get(version.repository) ?? [];
      list.push(renderEntry(toEntry(version, urls)));
      byRepository.set(version.repository, list);
    }
    return byRepository;
  }

  async function refresh(namespace: string): Promise<NamespaceCache> {
    let cache = namespaces.get(namespace);
    if (!cache) {
      cache = { repositories: new Map(), stale: new Set(), complete: false, generation: 0, documents: new Map() };
      namespaces.set(namespace, cache);
    }
    if (!cache.complete) {
      cache.stale.clear();
      cache.repositories = render(await metadata.listChartVersions(namespace));
      cache.complete = true;
    }
    for (const repository of [...cache.stale]) {
      cache.stale.delete(repository);
      const entries = render(await metadata.listRepositoryCharts(repository)).get(repository);
      if (entries) cache.repositories.set(repository, entries);
      else cache.repositories.delete(repository);
    }
    return cache;
  }

  return {
    /**
     * The index of a namespace. `host` (the request's) goes into `oci://` URLs. With `visible`,
     * repositories it refuses are left out (such a document is not cached); `hidden` and `shown`
     * count repositories.
     */
    async document(namespace: string, format: IndexFormat, host: string, visible?: (repository: string) => boolean): Promise<{ document: IndexDocument; hidden: number; shown: number }> {
      const key = urls === 'oci' ? `${format} ${host}` : format;
      const existing = namespaces.get(namespace)?.documents.get(key);
      const cacheBefore = namespaces.get(namespace);
      if (existing && (!visible || [...(cacheBefore?.repositories.keys() ?? [])].every(visible))) return { document: existing, hidden: 0, shown: cacheBefore?.repositories.size ?? 0 };
      const changesBefore = changes;
      const cache = await refresh(namespace);
      const shown = [...cache.repositories].filter(([repository]) => !visible || visible(repository));
      const groups = new Map<string, RenderedEntry[]>();
      for (const [, entries] of shown) {
        for (const entry of entries) {
          const list = groups.get(entry.name);
          if (list) list.push(entry);
          else groups.set(entry.name, [entry]);
        }
      }
      let body = assembleIndex(groups, new Date(ctx.now()), format);
      if (urls === 'oci' && hostPattern.test(host)) body = Buffer.from(body.toString().replaceAll(hostPlaceholder, host));
      let zipped: Promise<Buffer> | undefined;
      const hidden = cache.repositories.size - shown.length;
      const document: IndexDocument = {
        body,
        etag: `"${boot}-${cache.generation}-${key.replace(/[^A-Za-z0-9.:-]/g, '_')}${hidden ? `-${hidden}h${shown.length}` : ''}"`,
        gzipped: () => (zipped ??= gzipAsync(body, { level: 6 })),
      };
      // A change that landed while this was being built makes it stale at once: not kept.
      if (changes === changesBefore && hidden === 0) cache.documents.set(key, document);
      return { document, hidden, shown: shown.length };
    },
  };
}

export type ChartIndex = ReturnType<typeof createChartIndex>;
