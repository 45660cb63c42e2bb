import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { SemVer } from 'semver';
import { assembleIndex, renderChart, type IndexEntry, type IndexFormat } from '../charts/index-document.js';
import type { ChartCursor, ChartVersion } from '../db/metadata.js';
import type { RegistryContext } from './context.js';
import { namespaceOf } from './chart-ingest.js';

const gzipAsync = promisify(gzip);

export type { IndexFormat } from '../charts/index-document.js';

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

/** Newest first, each version parsed once (a comparator that parses would do it ~n log n times). */
function newestFirst(versions: ChartVersion[]): ChartVersion[] {
  return versions
    .map((version) => ({ version, parsed: new SemVer(version.version) }))
    .sort((a, b) => b.parsed.compare(a.parsed) || a.version.name.localeCompare(b.version.name))
    .map(({ version }) => version);
}

/** A repository's rendered charts, per format: chart name → its entries, newest first. */
type Rendered = Map<string, Buffer>;

interface NamespaceCache {
  /** Per format, per repository; absent = not rendered in that format yet. */
  rendered: Record<IndexFormat, Map<string, Rendered> | undefined>;
  /** Repositories changed since they were rendered, per format. */
  stale: Record<IndexFormat, Set<string>>;
  generation: number;
  /** Assembled documents by format (and host, when URLs name it). */
  documents: Map<string, IndexDocument>;
  /** The render in progress, so that concurrent requests share it. */
  refreshing: Partial<Record<IndexFormat, Promise<Map<string, Rendered>>>>;
}

/** A cold render reads this many rows at a time, and lets other requests in between. */
const pageRows = 2000;
const yieldToOthers = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Classic repository indexes, one per namespace, rendered from SQLite and kept in memory as
 * UTF-8 pieces per repository and format. A change to a repository re-renders only that
 * repository; the document is then reassembled from the pieces of the others.
 */
export function createChartIndex(ctx: RegistryContext) {
  const { metadata, config } = ctx;
  const urls = config.charts.indexUrls;
  const boot = randomBytes(4).toString('hex');
  const namespaces = new Map<string, NamespaceCache>();
  let changes = 0;

  metadata.onChange((repository) => {
    changes += 1;
    if (repository === undefined) {
      namespaces.clear();
      return;
    }
    const cache = namespaces.get(namespaceOf(repository));
    if (!cache) return;
    cache.stale.yaml.add(repository);
    cache.stale.json.add(repository);
    cache.generation += 1;
    cache.documents = new Map();
  });

  /** One repository's versions, grouped by chart name, newest first, rendered. */
  function renderRepository(versions: ChartVersion[], format: IndexFormat): Rendered {
    const byName = new Map<string, IndexEntry[]>();
    for (const version of newestFirst(versions)) {
      const list = byName.get(version.name) ?? [];
      list.push(toEntry(version, urls));
      byName.set(version.name, list);
    }
    return new Map([...byName].map(([name, entries]) => [name, renderChart(entries, format)]));
  }

  /**
   * Renders a whole namespace, reading it in pages ordered by repository and giving way to
   * other requests between pages, so a cold render of a big index does not stall the server.
   */
  async function renderNamespace(namespace: string, format: IndexFormat): Promise<Map<string, Rendered>> {
    const out = new Map<string, Rendered>();
    let pending: ChartVersion[] = [];
    let cursor: ChartCursor | undefined;
    do {
      const page = await metadata.listChartVersionPage(namespace, cursor, pageRows);
      for (const version of page.versions) {
        if (pending.length > 0 && pending[0]?.repository !== version.repository) {
          out.set(pending[0]?.repository as string, renderRepository(pending, format));
          pending = [];
        }
        pending.push(version);
      }
      cursor = page.next;
      if (cursor) await yieldToOthers();
    } while (cursor);
    if (pending.length > 0) out.set(pending[0]?.repository as string, renderRepository(pending, format));
    return out;
  }

  function cacheOf(namespace: string): NamespaceCache {
    let cache = namespaces.get(namespace);
    if (!cache) {
      cache = { rendered: { yaml: undefined, json: undefined }, stale: { yaml: new Set(), json: new Set() }, generation: 0, documents: new Map(), refreshing: {} };
      namespaces.set(namespace, cache);
    }
    return cache;
  }

  async function refresh(namespace: string, format: IndexFormat): Promise<Map<string, Rendered>> {
    const cache = cacheOf(namespace);
    let rendered = cache.rendered[format];
    if (!rendered) {
      const pending = (cache.refreshing[format] ??= (async () => {
        cache.stale[format].clear();
        return renderNamespace(namespace, format);
      })().finally(() => delete cache.refreshing[format]));
      rendered = await pending;
      cache.rendered[format] = rendered;
    }
    for (const repository of [...cache.stale[format]]) {
      cache.stale[format].delete(repository);
      const versions = await metadata.listRepositoryCharts(repository);
      if (versions.length > 0) rendered.set(repository, renderRepository(versions, format));
      else rendered.delete(repository);
    }
    return rendered;
  }

  return {
    /**
     * The index of a namespace. `host` (the request's) goes into `oci://` URLs. With `visible`,
     * repositories it refuses are left out (such a document is not cached); `hidden` and `shown`
     * count repositories.
     */
    async document(namespace: string, format: IndexFormat, host: string, visible?: (repository: string) => boolean): Promise<{ document: IndexDocument; hidden: number; shown: number }> {
      const key = urls === 'oci' ? `${format} ${host}` : format;
      await metadata.syncChanges();
      const cache = cacheOf(namespace);
      const existing = cache.documents.get(key);
      const known = cache.rendered[format];
      if (existing && known && (!visible || [...known.keys()].every(visible))) return { document: existing, hidden: 0, shown: known.size };
      const changesBefore = changes;
      const rendered = await refresh(namespace, format);
      const charts = new Map<string, Buffer[]>();
      let shown = 0;
      for (const [repository, byName] of rendered) {
        if (visible && !visible(repository)) continue;
        shown += 1;
        for (const [name, piece] of byName) {
          const pieces = charts.get(name);
          if (pieces) pieces.push(piece);
          else charts.set(name, [piece]);
        }
      }
      let body = assembleIndex(charts, new Date(ctx.now()), format);
      if (urls === 'oci' && hostPattern.test(host)) body = Buffer.from(body.toString().replaceAll(hostPlaceholder, host));
      let zipped: Promise<Buffer> | undefined;
      const hidden = rendered.size - shown;
      const document: IndexDocument = {
        body,
        etag: `"${boot}-${cache.generation}-${key.replace(/[^A-Za-z0-9.:-]/g, '_')}${hidden ? `-${hidden}h${shown}` : ''}"`,
        gzipped: () => (zipped ??= gzipAsync(body, { level: 6 })),
      };
      // A change that landed while this was being built makes it stale at once: not kept.
      if (changes === changesBefore && hidden === 0) cache.documents.set(key, document);
      return { document, hidden, shown };
    },
  };
}

export type ChartIndex = ReturnType<typeof createChartIndex>;
