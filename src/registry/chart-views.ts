// What the JSON API answers about charts (`/api/v1/charts…`). Types only: the web UI's build
// reads them too, so they import nothing but other such types.
import type { ChartMetadata } from '../charts/chart-metadata.js';

export interface ChartSummary {
  repository: string;
  namespace: string;
  name: string;
  latestVersion: string;
  appVersion?: string;
  description?: string;
  icon?: string;
  keywords: string[];
  deprecated: boolean;
  versionCount: number;
  updated: string;
}

export interface VersionSummary {
  version: string;
  appVersion?: string;
  created: string;
  digest: string;
  manifestDigest: string;
  size: number;
  provenance: boolean;
  deprecated: boolean;
}

/** A chart with every version, newest first. */
export interface ChartDetail extends ChartSummary {
  versions: VersionSummary[];
}

export interface VersionDetail extends VersionSummary {
  repository: string;
  namespace: string;
  metadata: ChartMetadata;
  /** Where to get it: OCI reference and classic repository file. */
  oci: string;
  file: string;
  hasReadme: boolean;
  hasValues: boolean;
  hasValuesSchema: boolean;
}
