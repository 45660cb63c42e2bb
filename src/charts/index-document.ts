import type { ChartMetadata } from './chart-yaml.js';

/** One entry of a classic repository index: Chart.yaml's fields plus where and when. */
export interface IndexEntry extends ChartMetadata {
  urls: string[];
  created: string;
  digest?: string;
}

/** A rendered entry, in both formats, ready to be concatenated. */
export interface RenderedEntry {
  name: string;
  yaml: string;
  json: string;
}

// Characters a YAML 1.1 reader (Helm < 3.13 uses one) would take as line breaks or refuse,
// and lone surrogates, which JSON.stringify leaves as text.
const yamlUnsafe = /[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** A double-quoted scalar: JSON's escapes are YAML's, once the characters above are escaped too. */
function quoted(text: string): string {
  return JSON.stringify(text).replace(yamlUnsafe, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function scalar(value: unknown): string {
  if (typeof value === 'string') return quoted(value);
  if (typeof value === 'boolean' || typeof value === 'number') return String(value);
  return quoted(String(value));
}

/** Block-style YAML for the value types an index entry holds. */
function yamlLines(key: string, value: unknown, indent: string, out: string[], listItem = false): void {
  const lead = listItem ? `${indent.slice(0, -2)}- ` : indent;
  if (Array.isArray(value)) {
    if (value.length === 0) return void out.push(`${lead}${key}: []`);
    out.push(`${lead}${key}:`);
    for (const item of value) {
      if (typeof item === 'object' && item !== null) yamlObject(item as Record<string, unknown>, `${indent}  `, out, true);
      else out.push(`${indent}- ${scalar(item)}`);
    }
  } else if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return void out.push(`${lead}${key}: {}`);
    out.push(`${lead}${key}:`);
    for (const [k, v] of entries) yamlLines(quoted(k), v, `${indent}  `, out);
  } else {
    out.push(`${lead}${key}: ${scalar(value)}`);
  }
}

function yamlObject(object: Record<string, unknown>, indent: string, out: string[], listItem: boolean): void {
  let first = listItem;
  for (const [key, value] of Object.entries(object)) {
    if (value === undefined) continue;
    yamlLines(key, value, indent, out, first);
    first = false;
  }
}

/** Renders one version's entry for the `entries.<name>` list of index.yaml and index.json. */
export function renderEntry(entry: IndexEntry): RenderedEntry {
  const lines: string[] = [];
  yamlObject(entry as unknown as Record<string, unknown>, '    ', lines, true);
  return { name: entry.name, yaml: `${lines.join('\n')}\n`, json: JSON.stringify(entry) };
}

/** Assembles a whole index from entries grouped by chart name, each group newest first. */
export function assembleIndex(groups: Map<string, RenderedEntry[]>, generated: Date, format: 'yaml' | 'json'): Buffer {
  const names = [...groups.keys()].sort();
  if (format === 'json') {
    const parts = names.map((name) => `${JSON.stringify(name)}:[${(groups.get(name) ?? []).map((e) => e.json).join(',')}]`);
    return Buffer.from(`{"apiVersion":"v1","entries":{${parts.join(',')}},"generated":${JSON.stringify(generated.toISOString())}}\n`);
  }
  const parts: string[] = ['apiVersion: v1\n', names.length === 0 ? 'entries: {}\n' : 'entries:\n'];
  for (const name of names) {
    parts.push(`  ${quoted(name)}:\n`);
    for (const entry of groups.get(name) ?? []) parts.push(entry.yaml);
  }
  parts.push(`generated: ${quoted(generated.toISOString())}\n`);
  return Buffer.from(parts.join(''));
}
