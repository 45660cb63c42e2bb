import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { configSchema, envVariables, type Config } from './schema.js';
import { isHttpUrl, storageProblems } from './storage.js';

export type { Config, LogLevel } from './schema.js';

type Tree = Record<string, unknown>;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface ConfigSources {
  /** Path of a YAML config file. */
  file?: string | undefined;
  /** Usually `process.env`; only `CHARTROOM_*` entries are read. */
  env?: NodeJS.ProcessEnv;
  /** Settings from command-line flags or code, as dotted paths (`limits.maxManifestBytes`). */
  overrides?: Record<string, unknown>;
}

// coerceTypes lets env and flag strings ("5000") fill numeric fields. The validator runs once per
// start, so it is compiled for a quick start rather than a quick run (~60 ms less), and the schema
// is checked against JSON Schema's own by a test instead of at every start (~80 ms).
const validate = new Ajv({ useDefaults: true, coerceTypes: true, allErrors: true, validateSchema: false, code: { optimize: false } }).compile(configSchema);

/** Defaults, then the YAML file, then `CHARTROOM_*` variables, then overrides; validated and frozen. */
export function loadConfig(sources: ConfigSources = {}): Config {
  const env = sources.env ?? {};
  const file = sources.file ?? env.CHARTROOM_CONFIG;
  const tree: Tree = file ? readConfigFile(file) : {};
  for (const [name, path] of Object.entries(envVariables)) {
    const value = env[name];
    if (value !== undefined && value !== '') setPath(tree, path, value);
  }
  for (const [path, value] of Object.entries(sources.overrides ?? {})) {
    if (value !== undefined) setPath(tree, path, value);
  }
  if (!validate(tree)) {
    throw new ConfigError(`invalid config: ${(validate.errors ?? []).map(describeError).join('; ')}`);
  }
  const config = tree as unknown as Config;
  if ((config.tls.cert === '') !== (config.tls.key === '')) throw new ConfigError("invalid config: 'tls.cert' and 'tls.key' go together");
  if (config.metadata.driver === 'postgres' && !/^postgres(ql)?:\/\//.test(config.metadata.url)) {
    // The message names the field, never the value: the URL holds a password.
    throw new ConfigError("invalid config: 'metadata.url' must be a postgres:// connection string when 'metadata.driver' is postgres");
  }
  if (config.metadata.driver === 'postgres' && config.auth.enabled && !config.auth.signingKey) {
    // Replicas share one database; each would otherwise make its own key and refuse the others' tokens.
    throw new ConfigError("invalid config: with 'metadata.driver' postgres and auth on, set 'auth.signingKey' to a key file every replica reads");
  }
  config.webhooks.endpoints.forEach((endpoint, i) => {
    // The message names the field, never the value: a webhook URL may carry credentials.
    if (!isHttpUrl(endpoint.url)) throw new ConfigError(`invalid config: 'webhooks.endpoints.${i}.url' must be an http:// or https:// URL`);
  });
  const storage = storageProblems(config);
  if (storage.length > 0) throw new ConfigError(`invalid config: ${storage.join('; ')}`);
  return deepFreeze(config);
}

function readConfigFile(file: string): Tree {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`config file ${file} is not valid YAML: ${(err as Error).message}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${file} must hold a mapping of settings`);
  }
  return parsed as Tree;
}

function setPath(tree: Tree, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = tree;
  for (const key of keys.slice(0, -1)) {
    const child = node[key];
    if (typeof child !== 'object' || child === null || Array.isArray(child)) node[key] = {};
    node = node[key] as Tree;
  }
  node[keys[keys.length - 1] as string] = value;
}

function describeError(error: ErrorObject): string {
  const field = error.instancePath.slice(1).replaceAll('/', '.');
  if (error.keyword === 'additionalProperties') {
    const extra = (error.params as { additionalProperty: string }).additionalProperty;
    return `unknown field '${field ? `${field}.` : ''}${extra}'`;
  }
  if (error.keyword === 'enum') {
    const allowed = (error.params as { allowedValues: unknown[] }).allowedValues;
    return `'${field}' must be one of ${allowed.join(', ')}`;
  }
  return `'${field || '(root)'}' ${error.message ?? 'is invalid'}`;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
