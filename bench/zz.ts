import { createClient } from './oci-client.js';
import { chartArtifact, chartSpec, pushChartArtifact } from './seed-charts.js';
const client = createClient('http://127.0.0.1:5099', 16);
const charts = Array.from({ length: 1500 }, (_, i) => chartArtifact(chartSpec(i, 1), { version: '1.0.0', appVersion: '1.0.0', created: '2026-01-01T00:00:00Z' }));
const t0 = performance.now();
let next = 0;
await Promise.all(Array.from({ length: 16 }, async () => { while (next < charts.length) await pushChartArtifact(client, 'bench/p', charts[next++]!); }));
console.log((charts.length / ((performance.now() - t0) / 1000)).toFixed(1), 'charts/s');
client.close();
