import semver from 'semver';
import { chartFileName } from '../registry/chart-index.js';
import type { RegistryContext } from '../registry/context.js';
import type { ChartSearchHit, ChartSearchPage, SearchCandidate, SearchTerm, SearchVersion } from '../db/metadata.js';
import { rangeMajors } from '../charts/versions.js';
import { OciError } from '../errors.js';
import { nearestWords } from './fuzzy.js';
import { highlight, snippet } from './highlight.js';
import { maxPageSize, parseSearchRequest, queryWords, type SearchRequest } from './query.js';
import type { SearchResponse, SearchResult, VersionResult } from './results.js';

export type Visible = (repository: string) => boolean;

function highlights(hit: ChartSearchHit, terms: SearchTerm[]): SearchResult['highlights'] {
  const found = {
    name: highlight(hit.name, terms),
    description: highlight(hit.description, terms),
    keywords: highlight(hit.keywords.join(', '), terms),
    readme: snippet(hit.readme, terms),
  };
  return Object.fromEntries(Object.entries(found).filter(([, text]) => text !== undefined));
}

function versionResult(v: SearchVersion): VersionResult {
  return {
    version: v.version,
    ...(v.appVersion !== undefined ? { appVersion: v.appVersion } : {}),
    created: new Date(v.createdAt).toISOString(),
    digest: v.chartDigest,
    deprecated: v.deprecated,
  };
}

/**
 * The version a chart shows when a rule needs code: the newest in the range, and nothing for a
 * chart the caller may not pull. Undefined when no such rule applies (the store picks the latest).
 */
function chooser(request: SearchRequest, visible: Visible | undefined) {
  const range = request.versionRange;
  if (range === undefined && visible === undefined) return undefined;
  return (candidate: SearchCandidate): string | undefined => {
    if (visible && !visible(candidate.repository)) return undefined;
    if (range === undefined) return request.includePrerelease ? candidate.latest : candidate.latestStable;
    return candidate.versions.find((version) => range.test(parsedVersion(version)));
  };
}

// The same few thousand version strings recur across charts; parsing is most of a range test.
const parsedVersions = new Map<string, semver.SemVer | string>();
function parsedVersion(version: string): semver.SemVer | string {
  let parsed = parsedVersions.get(version);
  if (parsed === undefined) {
    parsed = semver.parse(version) ?? version;
    if (parsedVersions.size >= 50_000) parsedVersions.clear();
    parsedVersions.set(version, parsed);
  }
  return parsed;
}

/** Server-side chart search: ranked full-text matches over chart metadata, filtered by what the caller may pull. */
export function createChartSearch(ctx: Pick<RegistryContext, 'metadata' | 'config'>) {
  const { metadata } = ctx;
  const assertEnabled = (): void => {
    if (!ctx.config.charts.search) throw new OciError('NOT_FOUND', 'chart search is turned off on this registry (charts.search)');
  };

  // Words of chart names for typo correction, read again after any change.
  let nameWords: Set<string> | undefined;
  metadata.onChange(() => {
    nameWords = undefined;
  });
  async function knownNameWords(): Promise<Set<string>> {
    await metadata.syncChanges();
    nameWords ??= new Set((await metadata.chartNames()).flatMap(queryWords));
    return nameWords;
  }

  /** The page of hits, and the terms that found them (the typo corrections when nothing matched as typed). */
  async function find(request: SearchRequest, visible: Visible | undefined, withReadme: boolean): Promise<ChartSearchPage & { fuzzy: boolean; terms: SearchTerm[] }> {
    const query = {
      nameKey: request.words.join('-'),
      repositoryPrefix: request.repositoryPrefix,
      keyword: request.keyword,
      maintainer: request.maintainer,
      includeDeprecated: request.includeDeprecated,
      includePrerelease: request.includePrerelease,
      choose: chooser(request, visible),
      majors: request.versionRange ? rangeMajors(request.versionRange) : undefined,
      withReadme,
      withVersions: request.withVersions,
      offset: (request.page - 1) * request.limit,
      limit: request.limit,
    };
    const terms: SearchTerm[] = request.words.map((word) => ({ words: [word], prefix: true }));
    const found = await metadata.searchCharts({ ...query, terms });
    const [word] = request.words;
    if (found.total > 0 || request.words.length !== 1 || word === undefined || word.length < 3) return { ...found, fuzzy: false, terms };
    // Nothing as typed: try the chart-name words one or two slips away.
    const near = nearestWords(word, await knownNameWords());
    if (near.length === 0) return { ...found, fuzzy: false, terms };
    const corrected = [{ words: near, prefix: false }];
    return { ...(await metadata.searchCharts({ ...query, terms: corrected })), fuzzy: true, terms: corrected };
  }

  return {
    /** `/api/v1/search`: parameters as in the query string. */
    async search(params: Record<string, unknown>, visible: Visible | undefined): Promise<SearchResponse> {
      assertEnabled();
      const request = parseSearchRequest(params);
      const found = await find(request, visible, true);
      return {
        total: found.total,
        page: request.page,
        limit: request.limit,
        fuzzy: found.fuzzy,
        results: found.hits.map((hit) => ({
          repository: hit.repository,
          namespace: hit.namespace,
          name: hit.name,
          ...versionResult(hit.version),
          ...(hit.description !== undefined ? { description: hit.description } : {}),
          keywords: hit.keywords,
          ...(hit.icon !== undefined ? { icon: hit.icon } : {}),
          ...(hit.home !== undefined ? { home: hit.home } : {}),
          deprecated: hit.deprecated,
          updated: new Date(hit.updatedAt).toISOString(),
          highlights: highlights(hit, found.terms),
          ...(hit.versions ? { versions: hit.versions.map(versionResult) } : {}),
        })),
      };
    },

    /**
     * The Monocular chart search that `helm search hub --endpoint URL` calls: the best matches for
     * `q`, shaped as helm reads them, each linking to the chart's page in the UI.
     */
    async monocular(q: unknown, baseUrl: string, visible: Visible | undefined) {
      assertEnabled();
      const request = parseSearchRequest({ limit: String(maxPageSize) });
      const found = await find({ ...request, words: queryWords(typeof q === 'string' ? q : '') }, visible, false);
      return {
        data: found.hits.map((hit) => {
          const repoUrl = `${baseUrl}/chartrepo${hit.namespace ? `/${hit.namespace}` : ''}`;
          return {
            id: hit.repository,
            artifactHub: { packageUrl: `${baseUrl}/charts/${hit.repository}` },
            attributes: {
              name: hit.name,
              repo: { name: hit.namespace, url: repoUrl },
              description: hit.description ?? '',
              home: hit.home ?? '',
              keywords: hit.keywords,
              icon: hit.icon ?? '',
            },
            relationships: {
              latestChartVersion: {
                data: {
                  version: hit.version.version,
                  app_version: hit.version.appVersion ?? '',
                  created: new Date(hit.version.createdAt).toISOString(),
                  digest: hit.version.chartDigest,
                  urls: [`${repoUrl}/charts/${chartFileName(hit.name, hit.version.version)}`],
                },
              },
            },
          };
        }),
      };
    },
  };
}

export type ChartSearch = ReturnType<typeof createChartSearch>;
