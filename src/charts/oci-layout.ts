import type { ChartMetadata } from './chart-yaml.js';

/** Media types of a Helm chart as an OCI artifact. */
export const helmMediaTypes = {
  config: 'application/vnd.cncf.helm.config.v1+json',
  chart: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip',
  /** What Helm wrote before the chart media type was registered; Helm 4 still pulls it. */
  legacyChart: 'application/tar+gzip',
  provenance: 'application/vnd.cncf.helm.chart.provenance.v1.prov',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
} as const;

export interface BlobRef {
  digest: string;
  size: number;
}

/** The config blob `helm push` writes: Chart.yaml as JSON, in Helm's field order, empty fields left out. */
export function chartConfig(meta: ChartMetadata): Buffer {
  const ordered: Record<string, unknown> = {
    name: meta.name,
    home: meta.home,
    sources: meta.sources,
    version: meta.version,
    description: meta.description,
    keywords: meta.keywords,
    maintainers: meta.maintainers,
    icon: meta.icon,
    apiVersion: meta.apiVersion,
    condition: meta.condition,
    tags: meta.tags,
    appVersion: meta.appVersion,
    deprecated: meta.deprecated || undefined,
    annotations: meta.annotations,
    kubeVersion: meta.kubeVersion,
    dependencies: meta.dependencies,
    type: meta.type,
  };
  const present = Object.entries(ordered).filter(([, v]) => v !== undefined && v !== '' && !(Array.isArray(v) && v.length === 0));
  return Buffer.from(JSON.stringify(Object.fromEntries(present)));
}

/** The manifest `helm push` writes: no mediaType field, chart layer then provenance, OCI annotations. */
export function chartManifest(meta: ChartMetadata, config: BlobRef, chart: BlobRef, prov: BlobRef | undefined, created: Date): Buffer {
  const annotations: Record<string, string> = { ...(meta.annotations ?? {}) };
  const set = (key: string, value: string | undefined): void => {
    if (value) annotations[`org.opencontainers.image.${key}`] = value;
  };
  set('description', meta.description);
  set('title', meta.name);
  set('version', meta.version);
  set('url', meta.home);
  set('source', meta.sources?.[0]);
  set('authors', meta.maintainers?.map((m) => (m.email ? `${m.name} (${m.email})` : m.name)).join(', '));
  set('created', created.toISOString().replace(/\.\d{3}Z$/, 'Z'));
  const layers: { mediaType: string; digest: string; size: number }[] = [{ mediaType: helmMediaTypes.chart, digest: chart.digest, size: chart.size }];
  if (prov) layers.push({ mediaType: helmMediaTypes.provenance, digest: prov.digest, size: prov.size });
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      config: { mediaType: helmMediaTypes.config, digest: config.digest, size: config.size },
      layers,
      annotations,
    }),
  );
}
