import { latestOf, newestFirst } from '../charts/versions.js';
import type { ChartVersion } from '../db/metadata.js';
import { OciError } from '../errors.js';
import { ChangeCache } from './change-cache.js';
import { chartFileName } from './chart-index.js';
import { namespaceOf } from './chart-ingest.js';
import type { RegistryContext } from './context.js';
import type { ChartDetail, ChartSummary, VersionDetail, VersionSummary } from './chart-views.js';
import { checkName, isValidName, truncate } from './grammar.js';

function versionSummary(v: ChartVersion): VersionSummary {
  return {
    version: v.version,
    ...(v.metadata.appVersion !== undefined ? { appVersion: v.metadata.appVersion } : {}),
    created: new Date(v.createdAt).toISOString(),
    digest: v.chartDigest,
    manifestDigest: v.manifestDigest,
    size: v.chartSize,
    provenance: v.provDigest !== undefined,
    deprecated: v.metadata.deprecated === true,
  };
}

function summarize(repository: string, versions: ChartVersion[]): ChartSummary {
  const sorted = [...versions].sort(newestFirst);
  const head = latestOf(sorted) as ChartVersion;
  const meta = head.metadata;
  return {
    repository,
    namespace: namespaceOf(repository),
    name: head.name,
    latestVersion: head.version,
    ...(meta.appVersion !== undefined ? { appVersion: meta.appVersion } : {}),
    ...(meta.description !== undefined ? { description: meta.description } : {}),
    ...(meta.icon !== undefined ? { icon: meta.icon } : {}),
    keywords: meta.keywords ?? [],
    deprecated: meta.deprecated === true,
    versionCount: sorted.length,
    updated: new Date(Math.max(...sorted.map((v) => v.createdAt))).toISOString(),
  };
}

/** Namespaces whose chart summaries are kept in memory at most. */
const cachedNamespaces = 256;

/** Read-only views of the charts in the store, for the JSON API and the UI. */
export function createChartCatalog(ctx: RegistryContext) {
  const { metadata } = ctx;

  // Each namespace's chart summaries, kept until a change in it: the list of charts is the web
  // UI's first page, and summarizing thousands of versions on every request costs tens of ms.
  const summaries = new ChangeCache<ChartSummary[]>(metadata, cachedNamespaces, namespaceOf);

  const summariesOf = (namespace: string): Promise<ChartSummary[]> =>
    summaries.read(namespace, namespace, async () => {
      const byRepository = new Map<string, ChartVersion[]>();
      for (const version of await metadata.listChartVersions(namespace)) {
        const list = byRepository.get(version.repository) ?? [];
        list.push(version);
        byRepository.set(version.repository, list);
      }
      return [...byRepository].map(([repository, versions]) => summarize(repository, versions));
    });

  async function versionsOf(repository: string): Promise<ChartVersion[]> {
    checkName(repository);
    const versions = (await metadata.listRepositoryCharts(repository)).sort(newestFirst);
    if (versions.length === 0) throw new OciError('NAME_UNKNOWN', `no chart in ${truncate(repository)}`);
    return versions;
  }

  async function find(repository: string, version: string): Promise<ChartVersion> {
    checkName(repository);
    const slash = repository.lastIndexOf('/');
    const found = await metadata.getChartVersion(namespaceOf(repository), repository.slice(slash + 1), version);
    if (!found || found.repository !== repository) {
      throw new OciError('MANIFEST_UNKNOWN', `no version ${truncate(version)} of ${truncate(repository)}`);
    }
    return found;
  }

  return {
    /** Namespaces with charts; with `visible`, counted over the charts it accepts. */
    async namespaces(visible?: (repository: string) => boolean): Promise<{ namespace: string; charts: number }[]> {
      if (!visible) return metadata.listChartNamespaces();
      const counts = new Map<string, number>();
      for (const chart of await this.charts(undefined, 'name', visible)) counts.set(chart.namespace, (counts.get(chart.namespace) ?? 0) + 1);
      return [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([namespace, charts]) => ({ namespace, charts }));
    },

    /** Charts of one namespace, or of all, with their latest version; sorted by name or last push. */
    async charts(namespace: string | undefined, sort: 'name' | 'updated', visible: (repository: string) => boolean = () => true): Promise<ChartSummary[]> {
      if (namespace !== undefined && namespace !== '' && !isValidName(namespace)) {
        throw new OciError('NAME_INVALID', `invalid namespace: ${truncate(namespace)}`);
      }
      const namespaces = namespace !== undefined ? [namespace] : (await metadata.listChartNamespaces()).map((n) => n.namespace);
      const found: ChartSummary[] = [];
      for (const ns of namespaces) for (const summary of await summariesOf(ns)) if (visible(summary.repository)) found.push(summary);
      return sort === 'updated'
        ? found.sort((a, b) => b.updated.localeCompare(a.updated) || a.repository.localeCompare(b.repository))
        : found.sort((a, b) => a.name.localeCompare(b.name) || a.repository.localeCompare(b.repository));
    },

    /** `limit` charts from `offset` of `charts`, and how many there are in all (a list page shows the first few). */
    async chartPage(
      namespace: string | undefined,
      sort: 'name' | 'updated',
      page: { offset: number; limit: number | undefined },
      visible?: (repository: string) => boolean,
    ): Promise<{ total: number; charts: ChartSummary[] }> {
      const all = await this.charts(namespace, sort, visible);
      return { total: all.length, charts: page.limit === undefined ? all.slice(page.offset) : all.slice(page.offset, page.offset + page.limit) };
    },

    async chart(repository: string): Promise<ChartDetail> {
      const versions = await versionsOf(repository);
      return { ...summarize(repository, versions), versions: versions.map(versionSummary) };
    },

    async version(repository: string, version: string, host: string): Promise<VersionDetail> {
      const found = await find(repository, version);
      return {
        ...versionSummary(found),
        repository,
        namespace: found.namespace,
        metadata: found.metadata,
        oci: `oci://${host}/${repository}`,
        file: `/chartrepo/${found.namespace ? `${found.namespace}/` : ''}charts/${chartFileName(found.name, found.version)}`,
        hasReadme: found.readme !== undefined,
        hasValues: found.values !== undefined,
        hasValuesSchema: found.valuesSchema !== undefined,
      };
    },

    /** README, values.yaml or values.schema.json of a version, as stored. */
    async file(repository: string, version: string, which: 'readme' | 'values' | 'values-schema'): Promise<string> {
      const found = await find(repository, version);
      const text = which === 'readme' ? found.readme : which === 'values' ? found.values : found.valuesSchema;
      if (text === undefined) throw new OciError('NOT_FOUND', `${repository} ${version} has no ${which}`);
      return text;
    },
  };
}

export type ChartCatalog = ReturnType<typeof createChartCatalog>;
