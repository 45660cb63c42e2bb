import type { ChartMetadata } from '../charts/chart-yaml.js';
import type { ChartRecord, ChartVersion, Descriptor, RobotToken, StoredManifest, UploadRecord } from './metadata.js';

// Rows as both metadata stores read them (same columns), and the records they become.

export interface UploadRow {
  id: string;
  repository: string;
  offset: number;
  state: string | null;
  started_at: number;
  updated_at: number;
}

export interface ManifestRow {
  digest: string;
  media_type: string;
  size: number;
  content: Buffer;
}

export interface ChartRow {
  namespace: string;
  name: string;
  version: string;
  version_tag: string;
  metadata: string;
  chart_digest: string;
  chart_size: number;
  prov_digest: string | null;
  readme?: string | null;
  values_yaml?: string | null;
  values_schema?: string | null;
  created_at: number;
  repository?: string;
  manifest_digest?: string;
}

export interface RobotRow {
  name: string;
  secret_hash: string;
  scopes: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
}

export interface ReferrerRow {
  media_type: string;
  digest: string;
  size: number;
  artifact_type: string | null;
  annotations: string | null;
}

// Listing columns: everything but README and values (in chart_files), which only a single version's page shows.
export const visibleChartColumns = `c.namespace, c.name, c.version, c.version_tag, c.metadata, c.chart_digest, c.chart_size, c.prov_digest,
  c.created_at, r.name AS repository, m.digest AS manifest_digest`;

/** Chart versions that are visible: the tag named after the version points at their manifest. */
export const visibleCharts = `charts c JOIN tags t ON t.manifest_id = c.manifest_id AND t.name = c.version_tag
  JOIN manifests m ON m.id = c.manifest_id JOIN repositories r ON r.id = c.repo_id`;

export function toUpload(row: UploadRow): UploadRecord {
  return { id: row.id, repository: row.repository, offset: row.offset, state: row.state ?? undefined, startedAt: row.started_at, updatedAt: row.updated_at };
}

export function toManifest(row: ManifestRow): StoredManifest {
  return { digest: row.digest, mediaType: row.media_type, size: row.size, content: row.content };
}

export function toChartRecord(row: ChartRow): ChartRecord {
  return {
    namespace: row.namespace,
    name: row.name,
    version: row.version,
    versionTag: row.version_tag,
    metadata: JSON.parse(row.metadata) as ChartMetadata,
    chartDigest: row.chart_digest,
    chartSize: row.chart_size,
    provDigest: row.prov_digest ?? undefined,
    readme: row.readme ?? undefined,
    values: row.values_yaml ?? undefined,
    valuesSchema: row.values_schema ?? undefined,
    createdAt: row.created_at,
  };
}

export function toChartVersion(row: ChartRow): ChartVersion {
  return { ...toChartRecord(row), repository: row.repository as string, manifestDigest: row.manifest_digest as string };
}

export function toRobot(row: RobotRow): RobotToken {
  return {
    name: row.name,
    secretHash: row.secret_hash,
    scopes: JSON.parse(row.scopes) as RobotToken['scopes'],
    createdAt: row.created_at,
    expiresAt: row.expires_at ?? undefined,
    revokedAt: row.revoked_at ?? undefined,
  };
}

export function toDescriptor(row: ReferrerRow): Descriptor {
  const descriptor: Descriptor = { mediaType: row.media_type, digest: row.digest, size: row.size };
  if (row.artifact_type !== null) descriptor.artifactType = row.artifact_type;
  if (row.annotations !== null) descriptor.annotations = JSON.parse(row.annotations) as Record<string, string>;
  return descriptor;
}
