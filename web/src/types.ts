// The JSON API's shapes: the server's own types (type-only modules that import nothing at run
// time), so the UI's type check fails when the API changes shape.
export type { ChartMetadata, Dependency, Maintainer } from '../../src/charts/chart-metadata.js';
export type { ChartDetail, ChartSummary, VersionDetail, VersionSummary } from '../../src/registry/chart-views.js';
export type { SearchResponse, SearchResult } from '../../src/search/results.js';

/** `/api/v1/me` */
export interface Me {
  /** Access control on: the UI offers to sign in. */
  auth: boolean;
  user: string | null;
}

export interface NamespaceCount {
  namespace: string;
  charts: number;
}
