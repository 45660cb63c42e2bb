import { parse as parseYaml } from 'yaml';
import { ChartError } from './archive.js';

/**
 * A provenance file is a clearsigned message: the chart's Chart.yaml, `...`, then the hashes
 * of the files it covers. Returns the chart name and version it signs.
 */
export function provenanceSubject(text: string): { name: string; version: string } {
  const start = text.indexOf('-----BEGIN PGP SIGNED MESSAGE-----');
  const end = text.indexOf('-----BEGIN PGP SIGNATURE-----');
  if (start < 0 || end < start) throw new ChartError('not a provenance file: no PGP signed message');
  const body = text.slice(start, end).split(/\r?\n\r?\n/).slice(1).join('\n\n');
  // Clearsigning escapes lines that start with a dash as "- -".
  const chartYaml = body.replace(/^- /gm, '').split(/^\.\.\.\s*$/m)[0] ?? '';
  let doc: unknown;
  try {
    doc = parseYaml(chartYaml, { maxAliasCount: 16 });
  } catch {
    throw new ChartError('the provenance file does not hold a readable Chart.yaml');
  }
  const { name, version } = (typeof doc === 'object' && doc !== null ? doc : {}) as { name?: unknown; version?: unknown };
  if (typeof name !== 'string' || typeof version !== 'string') {
    throw new ChartError('the provenance file does not name a chart and version');
  }
  return { name, version };
}
