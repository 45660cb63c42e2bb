// What `/api/v1/search` answers. Types only, with no imports: the web UI's build reads them too.

export interface VersionResult {
  version: string;
  appVersion?: string;
  created: string;
  digest: string;
  deprecated: boolean;
}

export interface SearchResult {
  repository: string;
  namespace: string;
  name: string;
  version: string;
  appVersion?: string;
  created: string;
  digest: string;
  description?: string;
  keywords: string[];
  icon?: string;
  home?: string;
  deprecated: boolean;
  updated: string;
  /** Where the words matched: the field's text (a README excerpt), HTML-escaped, each match in `<mark>`. */
  highlights: Partial<Record<'name' | 'description' | 'keywords' | 'readme', string>>;
  versions?: VersionResult[];
}

export interface SearchResponse {
  total: number;
  page: number;
  limit: number;
  /** True when nothing matched as typed and the results are for nearby chart names. */
  fuzzy: boolean;
  results: SearchResult[];
}
