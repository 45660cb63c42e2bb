import { Ajv, type JSONSchemaType } from 'ajv';
import semver from 'semver';
import { parse as parseYaml } from 'yaml';
import { ChartError } from './archive.js';
import type { ChartMetadata } from './chart-metadata.js';

export type { ChartMetadata, Dependency, Maintainer } from './chart-metadata.js';

const shortText = { type: 'string', maxLength: 4096 } as const;
const optionalText = { ...shortText, nullable: true } as const;

export const chartYamlSchema: JSONSchemaType<ChartMetadata> = {
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'name', 'version'],
  properties: {
    apiVersion: { type: 'string', enum: ['v1', 'v2'] },
    name: { type: 'string', minLength: 1, maxLength: 250, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' },
    version: { type: 'string', minLength: 1, maxLength: 250 },
    appVersion: optionalText,
    kubeVersion: optionalText,
    description: { type: 'string', maxLength: 65536, nullable: true },
    type: optionalText,
    keywords: { type: 'array', items: shortText, maxItems: 256, nullable: true },
    home: optionalText,
    sources: { type: 'array', items: shortText, maxItems: 256, nullable: true },
    icon: optionalText,
    deprecated: { type: 'boolean', nullable: true },
    maintainers: {
      type: 'array',
      maxItems: 256,
      nullable: true,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: { name: shortText, email: optionalText, url: optionalText },
      },
    },
    dependencies: {
      type: 'array',
      maxItems: 1024,
      nullable: true,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: {
          name: shortText,
          version: optionalText,
          repository: optionalText,
          condition: optionalText,
          tags: { type: 'array', items: shortText, nullable: true },
          enabled: { type: 'boolean', nullable: true },
          alias: optionalText,
        },
      },
    },
    annotations: { type: 'object', additionalProperties: shortText, required: [], nullable: true },
    condition: optionalText,
    tags: optionalText,
  },
};

// Unknown fields are dropped where the schema closes an object; maps (annotations) stay open.
// The schema is checked against JSON Schema's own by a test, not at every start (~40 ms).
const validate = new Ajv({ allErrors: false, removeAdditional: true, useDefaults: false, validateSchema: false }).compile(chartYamlSchema);

/** Numbers where Helm expects strings (`appVersion: 1.0`) keep the text the author wrote. */
function stringifyScalars(doc: Record<string, unknown>, source: string): void {
  for (const key of ['appVersion', 'kubeVersion']) {
    if (typeof doc[key] === 'number') {
      const written = new RegExp(`^${key}:\\s*([^\\s#]+)`, 'm').exec(source)?.[1];
      doc[key] = written ?? String(doc[key]);
    }
  }
}

/** Parses Chart.yaml text into the metadata Helm sees; a ChartError says what is wrong. */
export function parseChartYaml(text: string): ChartMetadata {
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: 64, prettyErrors: false });
  } catch (err) {
    throw new ChartError(`Chart.yaml is not valid YAML: ${(err as Error).message.split('\n')[0]?.slice(0, 200)}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new ChartError('Chart.yaml must be a mapping');
  const record = doc as Record<string, unknown>;
  if (typeof record.version === 'number') {
    throw new ChartError(`Chart.yaml version must be a string, e.g. "${String(record.version)}.0"`);
  }
  stringifyScalars(record, text);
  if (!validate(record)) {
    const error = validate.errors?.[0];
    const field = error?.instancePath.slice(1).replaceAll('/', '.') || (error?.params as { missingProperty?: string })?.missingProperty;
    throw new ChartError(`Chart.yaml ${field ?? ''} ${error?.keyword === 'required' ? 'is required' : (error?.message ?? 'is invalid')}`.replace(/\s+/g, ' '));
  }
  if (!semver.valid(record.version as string)) {
    throw new ChartError(`Chart.yaml version "${String(record.version).slice(0, 100)}" is not a semantic version`);
  }
  return record as unknown as ChartMetadata;
}

/** OCI tags cannot hold `+`; Helm pushes `1.0.0+build.1` as tag `1.0.0_build.1`. */
export function versionTag(version: string): string {
  return version.replaceAll('+', '_');
}
