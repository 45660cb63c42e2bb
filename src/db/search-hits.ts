import type { ChartMetadata } from '../charts/chart-yaml.js';
import type { ChartSearchHit, SearchVersion } from './metadata.js';

// What both search indexes store of a chart for its hits, and how a hit is made from it.

/** What a hit shows of the indexed version's Chart.yaml, stored as JSON beside the index. */
interface Summary {
  name: string;
  description?: string;
  keywords?: string[];
  icon?: string;
  home?: string;
}

/** The stored summary of a chart, as JSON. */
export function summaryJson(meta: ChartMetadata): string {
  const summary: Summary = {
    name: meta.name,
    ...(meta.description !== undefined ? { description: meta.description } : {}),
    ...(meta.keywords !== undefined ? { keywords: meta.keywords } : {}),
    ...(meta.icon !== undefined ? { icon: meta.icon } : {}),
    ...(meta.home !== undefined ? { home: meta.home } : {}),
  };
  return JSON.stringify(summary);
}

/** A chart's row of the search index, as either store reads it. */
export interface SearchDocument {
  repository: string;
  namespace: string;
  deprecated: boolean;
  updatedAt: number;
  summary: string;
  readme: string | null;
}

export function toSearchHit(doc: SearchDocument, version: SearchVersion, versions: SearchVersion[] | undefined): ChartSearchHit {
  const summary = JSON.parse(doc.summary) as Summary;
  return {
    repository: doc.repository,
    namespace: doc.namespace,
    name: summary.name,
    ...(summary.description !== undefined ? { description: summary.description } : {}),
    keywords: summary.keywords ?? [],
    ...(summary.icon !== undefined ? { icon: summary.icon } : {}),
    ...(summary.home !== undefined ? { home: summary.home } : {}),
    deprecated: doc.deprecated,
    updatedAt: doc.updatedAt,
    version,
    ...(versions !== undefined ? { versions } : {}),
    ...(doc.readme !== null ? { readme: doc.readme } : {}),
  };
}
