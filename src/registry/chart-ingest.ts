import { ChartError, readChartArchive } from '../charts/archive.js';
import { parseChartYaml, versionTag } from '../charts/chart-yaml.js';
import { helmMediaTypes } from '../charts/oci-layout.js';
import type { ChartRecord } from '../db/metadata.js';
import { OciError } from '../errors.js';
import type { RegistryContext } from './context.js';
import type { Descriptor, ManifestFacts } from './manifest-format.js';

export function isChartManifest(facts: ManifestFacts): boolean {
  return facts.config?.mediaType === helmMediaTypes.config;
}

/** `team/apps/web` → `team/apps`; a top-level repository has the empty namespace. */
export function namespaceOf(repository: string): string {
  const slash = repository.lastIndexOf('/');
  return slash < 0 ? '' : repository.slice(0, slash);
}

function chartInvalid(message: string): OciError {
  return new OciError('MANIFEST_INVALID', message);
}

/** Finds a layer by media type, never by position: Helm 3 puts provenance after the chart, Helm 4 before. */
function layerOf(layers: Descriptor[], ...mediaTypes: string[]): Descriptor | undefined {
  return layers.find((layer) => mediaTypes.includes(layer.mediaType));
}

function createdAt(annotations: Record<string, string> | undefined, now: number): number {
  const created = Date.parse(annotations?.['org.opencontainers.image.created'] ?? '');
  return Number.isFinite(created) ? created : now;
}

/**
 * Reads the chart a Helm manifest carries: streams its `.tgz` from the blob store, parses
 * Chart.yaml and keeps README and values. With validation on, the chart's name must be the
 * repository's last segment and its version must match the tag.
 */
export function createChartIngest(ctx: RegistryContext) {
  const { metadata, blobs, config } = ctx;

  async function readArchive(repository: string, layer: Descriptor) {
    if (!(await metadata.linkedBlob(repository, layer.digest))) {
      throw new OciError('MANIFEST_BLOB_UNKNOWN', 'the chart layer is unknown to this repository', {
        detail: [{ kind: 'blob', digest: layer.digest }],
      });
    }
    try {
      return await readChartArchive(await blobs.open(layer.digest), {
        maxUnpackedBytes: config.charts.maxUnpackedBytes,
        maxFileBytes: config.charts.maxFileBytes,
      });
    } catch (err) {
      if (err instanceof ChartError) throw chartInvalid(`invalid chart: ${err.message}`);
      throw err;
    }
  }

  async function read(repository: string, digest: string, facts: ManifestFacts): Promise<ChartRecord> {
    const known = await metadata.chartOfManifest(repository, digest);
    if (known) return known;

    const layers = facts.layers ?? [];
    const layer = layerOf(layers, helmMediaTypes.chart, helmMediaTypes.legacyChart);
    if (!layer) throw chartInvalid(`a Helm chart manifest needs a layer of type ${helmMediaTypes.chart}`);
    const files = await readArchive(repository, layer);
    let chart;
    try {
      chart = parseChartYaml(files.chartYaml);
    } catch (err) {
      if (err instanceof ChartError) throw chartInvalid(`invalid chart: ${err.message}`);
      throw err;
    }
    const lastSegment = repository.slice(repository.lastIndexOf('/') + 1);
    if (config.charts.validate && chart.name !== lastSegment) {
      throw chartInvalid(`chart name "${chart.name}" does not match the repository: push it to …/${chart.name}`);
    }
    return {
      namespace: namespaceOf(repository),
      name: chart.name,
      version: chart.version,
      versionTag: versionTag(chart.version),
      metadata: chart,
      chartDigest: layer.digest,
      chartSize: layer.size,
      provDigest: layerOf(layers, helmMediaTypes.provenance)?.digest,
      readme: files.readme,
      values: files.values,
      valuesSchema: files.valuesSchema,
      createdAt: createdAt(facts.annotations, ctx.now()),
    };
  }

  return {
    /** The chart record for a Helm manifest, checked against the tag it is pushed to. */
    async ingest(repository: string, digest: string, facts: ManifestFacts, tag: string | undefined): Promise<ChartRecord> {
      const chart = await read(repository, digest, facts);
      if (config.charts.validate && tag !== undefined && tag !== chart.versionTag && chart.metadata.version !== tag) {
        throw chartInvalid(`chart version ${chart.version} does not match tag "${tag}" (expected "${chart.versionTag}")`);
      }
      return chart;
    },
  };
}
