import { createSqliteMetadata } from '../src/db/sqlite-metadata.js';
import { chartSpec, chartMetadata } from './seed-charts.js';
import { createHash } from 'node:crypto';
const m = createSqliteMetadata('/tmp/s/copy/chartroom.db', { searchIndex: process.env.OFF ? false : true });
const sha = (t: string) => `sha256:${createHash('sha256').update(t).digest('hex')}`;
const t0 = performance.now();
for (let i = 0; i < 1000; i++) {
  const spec = chartSpec(i, 10);
  const version = { version: `77.0.${i}${process.env.OFF ? '-off' : ''}`, appVersion: `9.${i}`, created: '2026-11-01T00:00:00Z' };
  const repository = `team${i % 20}/${spec.name}`;
  const content = Buffer.from(repository + version.version);
  const r = await m.putManifest({ repository, digest: sha(content.toString()), mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: undefined, subject: undefined, annotations: undefined, content, refs: [], tag: version.version, createdAt: 1, chartVersionsImmutable: true,
    chart: { namespace: `team${i % 20}`, name: spec.name, version: version.version, versionTag: version.version, metadata: chartMetadata(spec, version) as never, chartDigest: sha(version.version), chartSize: 1, provDigest: undefined, readme: spec.files.find(f => f.path.endsWith('README.md'))?.content, values: undefined, valuesSchema: undefined, createdAt: 1 } });
  if (!r.ok) throw new Error('x');
}
console.log(((performance.now() - t0)).toFixed(0), 'ms per 1000');
m.close();
