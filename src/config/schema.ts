import type { JSONSchemaType } from 'ajv';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  /** Interface to listen on. */
  host: string;
  /** TCP port; 0 picks a free one. */
  port: number;
  /** Data directory: `chartroom.db` and `blobs/`, `uploads/` live here. */
  data: string;
  logLevel: LogLevel;
  limits: {
    /** Largest manifest accepted on PUT (the spec asks registries to take at least 4 MiB). */
    maxManifestBytes: number;
    /** Largest single blob accepted; 0 means no limit beyond free disk space. */
    maxBlobBytes: number;
  };
  charts: {
    /** Check pushed charts: name = last path segment of the repository, version = tag. */
    validate: boolean;
    /** Allow a chart version to be pushed again with different content. */
    allowOverwrite: boolean;
    /** Decompressed size at which a chart archive is refused (zip bombs). */
    maxUnpackedBytes: number;
    /** Largest Chart.yaml, README, values.yaml or values.schema.json accepted. */
    maxFileBytes: number;
    /** What `index.yaml` holds: YAML, or JSON (Helm >= 3.13 reads it, much faster on big indexes). */
    indexFormat: 'yaml' | 'json';
    /** Index entries point at `charts/<file>.tgz` (relative) or at the OCI artifact (`oci://HOST/<repo>:<tag>`). */
    indexUrls: 'relative' | 'oci';
  };
  uploads: {
    /** An upload session untouched for this long is removed. */
    staleAfterSeconds: number;
    /** How often stale sessions are looked for; 0 disables the sweep. */
    sweepIntervalSeconds: number;
  };
}

export const configSchema: JSONSchemaType<Config> = {
  type: 'object',
  additionalProperties: false,
  required: ['host', 'port', 'data', 'logLevel', 'limits', 'charts', 'uploads'],
  properties: {
    host: { type: 'string', minLength: 1, default: '127.0.0.1' },
    port: { type: 'integer', minimum: 0, maximum: 65535, default: 5000 },
    data: { type: 'string', minLength: 1, default: './data' },
    logLevel: {
      type: 'string',
      enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
      default: 'info',
    },
    limits: {
      type: 'object',
      additionalProperties: false,
      required: ['maxManifestBytes', 'maxBlobBytes'],
      default: {} as Config['limits'],
      properties: {
        maxManifestBytes: { type: 'integer', minimum: 1024, maximum: 64 * 1024 * 1024, default: 4 * 1024 * 1024 },
        maxBlobBytes: { type: 'integer', minimum: 0, default: 0 },
      },
    },
    charts: {
      type: 'object',
      additionalProperties: false,
      required: ['validate', 'allowOverwrite', 'maxUnpackedBytes', 'maxFileBytes', 'indexFormat', 'indexUrls'],
      default: {} as Config['charts'],
      properties: {
        validate: { type: 'boolean', default: true },
        allowOverwrite: { type: 'boolean', default: false },
        maxUnpackedBytes: { type: 'integer', minimum: 1024, default: 256 * 1024 * 1024 },
        maxFileBytes: { type: 'integer', minimum: 1024, default: 1024 * 1024 },
        indexFormat: { type: 'string', enum: ['yaml', 'json'], default: 'yaml' },
        indexUrls: { type: 'string', enum: ['relative', 'oci'], default: 'relative' },
      },
    },
    uploads: {
      type: 'object',
      additionalProperties: false,
      required: ['staleAfterSeconds', 'sweepIntervalSeconds'],
      default: {} as Config['uploads'],
      properties: {
        staleAfterSeconds: { type: 'integer', minimum: 1, default: 24 * 3600 },
        sweepIntervalSeconds: { type: 'integer', minimum: 0, default: 600 },
      },
    },
  },
};

/** Environment variables and the config path each one sets. */
export const envVariables: Record<string, string> = {
  CHARTROOM_HOST: 'host',
  CHARTROOM_PORT: 'port',
  CHARTROOM_DATA: 'data',
  CHARTROOM_LOG_LEVEL: 'logLevel',
  CHARTROOM_MAX_MANIFEST_BYTES: 'limits.maxManifestBytes',
  CHARTROOM_MAX_BLOB_BYTES: 'limits.maxBlobBytes',
  CHARTROOM_UPLOAD_STALE_SECONDS: 'uploads.staleAfterSeconds',
  CHARTROOM_CHARTS_VALIDATE: 'charts.validate',
  CHARTROOM_CHARTS_ALLOW_OVERWRITE: 'charts.allowOverwrite',
};
