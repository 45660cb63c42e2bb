import { useMemo } from 'preact/hooks';
import { DataTable } from './data-table';

interface Row {
  path: string;
  type: string;
  required: boolean;
  description?: string;
  fallback?: string;
}

type Schema = Record<string, unknown>;

const isObject = (value: unknown): value is Schema => typeof value === 'object' && value !== null && !Array.isArray(value);

function typeOf(schema: Schema): string {
  if (Array.isArray(schema.enum)) return `one of ${schema.enum.map((v) => JSON.stringify(v)).join(', ')}`;
  const type = schema.type;
  if (Array.isArray(type)) return type.join(' | ');
  if (typeof type === 'string') return type;
  if (typeof schema.$ref === 'string') return schema.$ref;
  for (const key of ['oneOf', 'anyOf', 'allOf']) if (Array.isArray(schema[key])) return key;
  return 'any';
}

/** The properties of a schema, depth first, as `a.b.c` (`a[].b` inside arrays); deep or huge schemas are cut. */
function rows(schema: Schema, path: string, required: boolean, depth: number, out: Row[]): Row[] {
  if (out.length >= 2000 || depth > 12) return out;
  if (path) {
    const row: Row = { path, type: typeOf(schema), required };
    if (typeof schema.description === 'string') row.description = schema.description;
    if (schema.default !== undefined) row.fallback = JSON.stringify(schema.default);
    out.push(row);
  }
  const needed = new Set(Array.isArray(schema.required) ? schema.required : []);
  if (isObject(schema.properties)) {
    for (const [name, child] of Object.entries(schema.properties)) {
      if (isObject(child)) rows(child, path ? `${path}.${name}` : name, needed.has(name), depth + 1, out);
    }
  }
  if (isObject(schema.items)) rows(schema.items, `${path}[]`, false, depth + 1, out);
  return out;
}

/** values.schema.json as a table of the values it describes, with the JSON itself below. */
export function SchemaView({ text }: { text: string }) {
  const parsed = useMemo((): { table: Row[]; pretty: string } | undefined => {
    try {
      const schema: unknown = JSON.parse(text);
      return isObject(schema) ? { table: rows(schema, '', false, 0, []), pretty: JSON.stringify(schema, null, 2) } : undefined;
    } catch {
      return undefined;
    }
  }, [text]);
  if (!parsed) {
    return (
      <>
        <p>The schema is not a JSON object; here it is as stored.</p>
        <pre class="code">{text}</pre>
      </>
    );
  }
  return (
    <>
      {parsed.table.length > 0 ? (
        <DataTable
          class="schema"
          caption="Values described by values.schema.json"
          columns={['Value', 'Type', 'Default', 'Description']}
          rows={parsed.table.map((row) => ({
            key: row.path,
            head: (
              <>
                <code>{row.path}</code>
                {row.required ? <span class="badge">required</span> : null}
              </>
            ),
            cells: [row.type, row.fallback !== undefined ? <code>{row.fallback}</code> : null, row.description],
          }))}
        />
      ) : (
        <p>The schema names no properties.</p>
      )}
      <details class="raw">
        <summary>values.schema.json</summary>
        <pre class="code" tabIndex={0}>
          {parsed.pretty}
        </pre>
      </details>
    </>
  );
}
