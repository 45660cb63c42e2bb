import { gzipSync } from 'node:zlib';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { describe, pushBlob, putManifest } from './oci.js';

export interface TarEntry {
  path: string;
  content: string | Buffer;
  type?: '0' | '5';
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

/** A ustar archive built by hand, so tests can craft what a tar library would refuse to write. */
export function tar(entries: TarEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const body = Buffer.isBuffer(entry.content) ? entry.content : Buffer.from(entry.content);
    const header = Buffer.alloc(512);
    header.write(entry.path.slice(0, 100), 0, 'utf8');
    header.write(octal(0o644, 8), 100);
    header.write(octal(0, 8), 108);
    header.write(octal(0, 8), 116);
    header.write(octal(body.length, 12), 124);
    header.write(octal(1_700_000_000, 12), 136);
    header.write('        ', 148);
    header.write(entry.type ?? '0', 156);
    header.write('ustar\x0000', 257, 'binary');
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    blocks.push(header, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

export interface ChartOptions {
  name?: string;
  version?: string;
  chartYaml?: string;
  readme?: string;
  values?: string;
  extra?: TarEntry[];
}

/** A small but real chart `.tgz`: Chart.yaml, values.yaml, README.md and one template. */
export function chartTgz(options: ChartOptions = {}): Buffer {
  const name = options.name ?? 'app';
  const version = options.version ?? '1.0.0';
  const chartYaml =
    options.chartYaml ??
    [
      'apiVersion: v2',
      `name: ${name}`,
      `version: ${version}`,
      'appVersion: "2.4.1"',
      'description: An example application',
      'type: application',
      'keywords: [web, example]',
      'home: https://example.com/app',
      'sources: [https://github.com/example/app]',
      'maintainers:',
      '  - name: Ada',
      '    email: ada@example.com',
      'annotations:',
      '  category: demo',
      '',
    ].join('\n');
  return gzipSync(
    tar([
      { path: `${name}/Chart.yaml`, content: chartYaml },
      { path: `${name}/values.yaml`, content: options.values ?? 'replicaCount: 1\nimage:\n  repository: nginx\n' },
      { path: `${name}/README.md`, content: options.readme ?? `# ${name}\n\nAn example chart.\n` },
      { path: `${name}/templates/deployment.yaml`, content: 'kind: Deployment\n' },
      ...(options.extra ?? []),
    ]),
  );
}

export const helmTypes = {
  config: 'application/vnd.cncf.helm.config.v1+json',
  chart: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip',
  provenance: 'application/vnd.cncf.helm.chart.provenance.v1.prov',
} as const;

export interface PushChartOptions {
  tag?: string;
  prov?: Buffer;
  /** Helm 4 puts the provenance layer first. */
  provFirst?: boolean;
  created?: string;
}

/** Pushes a chart the way `helm push` lays it out: config, chart layer, optional provenance. */
export async function pushChart(
  app: FastifyInstance,
  repository: string,
  tgz: Buffer,
  version: string,
  options: PushChartOptions = {},
): Promise<{ res: LightMyRequestResponse; manifest: Buffer }> {
  const config = Buffer.from(JSON.stringify({ name: repository.split('/').pop(), version, apiVersion: 'v2' }));
  await pushBlob(app, repository, config);
  await pushBlob(app, repository, tgz);
  const layers = [describe(tgz, helmTypes.chart)];
  if (options.prov) {
    await pushBlob(app, repository, options.prov);
    const prov = describe(options.prov, helmTypes.provenance);
    if (options.provFirst) layers.unshift(prov);
    else layers.push(prov);
  }
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      config: describe(config, helmTypes.config),
      layers,
      annotations: {
        'org.opencontainers.image.created': options.created ?? '2026-01-02T03:04:05Z',
        'org.opencontainers.image.title': repository.split('/').pop(),
        'org.opencontainers.image.version': version,
      },
    }),
  );
  const res = await putManifest(app, repository, options.tag ?? version.replaceAll('+', '_'), manifest);
  return { res, manifest };
}
