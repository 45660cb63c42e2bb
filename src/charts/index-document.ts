import type { ChartMetadata } from './chart-yaml.js';

/** One entry of a classic repository index: Chart.yaml's fields plus where and when. */
export interface IndexEntry extends ChartMetadata {
  urls: string[];
  created: string;
  digest?: string;
}

export type IndexFormat = 'yaml' | 'json';

// Characters a YAML 1.1 reader (Helm < 3.13 uses one) would take as line breaks or refuse,
// and lone surrogates, which JSON.stringify leaves as text.
const yamlUnsafe = /[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** A double-quoted scalar: JSON's escapes are YAML's, once `escapeUnsafe` has run over the text. */
function quoted(text: string): string {
  return JSON.stringify(text);
}

/** Escapes the characters above; valid over a whole entry because every scalar in it is double-quoted. */
function escapeUnsafe(yaml: string): string {
  return yaml.replace(yamlUnsafe, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
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

/** Renders one version's entry for the `entries.<name>` list, in one format. */
export function renderEntry(entry: IndexEntry, format: IndexFormat): string {
  if (format === 'json') return JSON.stringify(entry);
  const lines: string[] = [];
  yamlObject(entry as unknown as Record<string, unknown>, '    ', lines, true);
  return escapeUnsafe(`${lines.join('\n')}\n`);
}

/** The entries of one chart name, newest first, as one piece of the `entries` map. */
export function renderChart(entries: IndexEntry[], format: IndexFormat): Buffer {
  return Buffer.from(entries.map((entry) => renderEntry(entry, format)).join(format === 'json' ? ',' : ''));
}

/**
 * Assembles a whole index from rendered charts: name → the pieces of its entries (one per
 * repository holding that name, usually one), each newest first.
 */
export function assembleIndex(charts: Map<string, Buffer[]>, generated: Date, format: IndexFormat): Buffer {
  const names = [...charts.keys()].sort();
  const parts: Buffer[] = [];
  const text = (value: string): void => void parts.push(Buffer.from(value));
  if (format === 'json') {
    text('{"apiVersion":"v1","entries":{');
    names.forEach((name, i) => {
      text(`${i ? ',' : ''}${JSON.stringify(name)}:[`);
      (charts.get(name) ?? []).forEach((piece, j) => {
        if (j) text(',');
        parts.push(piece);
      });
      text(']');
    });
    text(`},"generated":${JSON.stringify(generated.toISOString())}}\n`);
  } else {
    text(`apiVersion: v1\n${names.length === 0 ? 'entries: {}' : 'entries:'}\n`);
    for (const name of names) {
      text(escapeUnsafe(`  ${quoted(name)}:\n`));
      parts.push(...(charts.get(name) ?? []));
    }
    text(`generated: ${quoted(generated.toISOString())}\n`);
  }
  return Buffer.concat(parts);
}
