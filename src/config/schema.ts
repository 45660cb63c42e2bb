import type { JSONSchemaType } from 'ajv';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  /** Interface to listen on. */
  host: string;
  /** TCP port; 0 picks a free one. */
  port: number;
  /** Data directory: `chartroom.db` and `blobs/`, `uploads/` live here. */
  data: string;
  /** Where everything but blob bytes is kept. */
  metadata: {
    /** The embedded SQLite database in the data directory, or PostgreSQL, which several Chartroom processes can share. */
    driver: 'sqlite' | 'postgres';
    /** PostgreSQL's connection string (`postgres://user:password@host:5432/db`); it holds a secret, so it is never logged. */
    url: string;
    /** Connections each process keeps open to PostgreSQL at most. */
    poolSize: number;
  };
  logLevel: LogLevel;
  /** Serve HTTPS with this PEM certificate (chain) and key; both or neither. */
  tls: { cert: string; key: string };
  /**
   * Behind a reverse proxy: whose X-Forwarded-Proto/Host/For to believe when building absolute
   * URLs and logging clients. '' trusts nobody, 'true' every hop, else addresses or CIDRs, comma-separated.
   */
  trustProxy: string;
  limits: {
    /** Largest manifest accepted on PUT (the spec asks registries to take at least 4 MiB). */
    maxManifestBytes: number;
    /** Largest single blob accepted; 0 means no limit beyond free disk space. */
    maxBlobBytes: number;
    /** Time a client has to send a request's head (request line and headers): slowloris. */
    headersTimeoutSeconds: number;
    /** A connection with no bytes in either direction for this long is closed. */
    idleTimeoutSeconds: number;
    /**
     * A request body slower than this, averaged over each window of `bodyRateWindowSeconds`, is
     * cut off (an endless trickle of a chunked upload); 0 turns the check off.
     */
    minBodyBytesPerSecond: number;
    bodyRateWindowSeconds: number;
    /** Upload requests (PATCH, PUT, POST with a body) writing at once; more get 429 with Retry-After. */
    maxConcurrentUploads: number;
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
    /**
     * Keep the server-side search index (`/api/v1/search`, `helm search hub`). Off, pushes skip its
     * upkeep, the index is dropped and the search endpoints answer 404; on again, it is rebuilt at start.
     */
    search: boolean;
  };
  auth: AuthConfig;
  gc: {
    /** Run a garbage collection this often while serving; 0 leaves it to `chartroom gc`. */
    intervalSeconds: number;
    /** What was stored or linked within this many seconds is kept (a push may still be on its way). */
    graceSeconds: number;
    /** Also remove manifests no tag, index or live subject keeps. */
    untagged: boolean;
  };
  webhooks: WebhooksConfig;
  storage: StorageConfig;
  uploads: {
    /** An upload session untouched for this long is removed. */
    staleAfterSeconds: number;
    /** How often stale sessions are looked for; 0 disables the sweep. */
    sweepIntervalSeconds: number;
  };
}

/** Where blobs live: under the data directory, or in an S3 bucket (which needs the PostgreSQL metadata store). */
export interface StorageConfig {
  driver: 'disk' | 's3';
  s3: S3StorageConfig;
}

export interface S3StorageConfig {
  /** The S3 API's URL (radosgw, MinIO, …); '' for AWS's own endpoint of the region. */
  endpoint: string;
  region: string;
  bucket: string;
  /** Keys start with this (`registry/`), so that a bucket can be shared; '' for none. */
  prefix: string;
  /** Both, or neither for the SDK's usual chain (AWS_* variables, a profile, an instance role). Never logged. */
  accessKeyId: string;
  secretAccessKey: string;
  /** `endpoint/bucket/key` URLs instead of `bucket.endpoint/key` (what most S3-compatible stores want). */
  forcePathStyle: boolean;
  /**
   * Size of every part of a multipart upload but the last (S3: at least 5 MiB; at most 10,000
   * parts, so this times 10,000 bounds a blob). A body of unknown length is cut into parts of
   * this size in memory, one at a time.
   */
  partSizeBytes: number;
  /** Answer blob GETs (and chart downloads) with a 307 to a presigned S3 URL: the bytes do not pass through here. */
  redirect: boolean;
  /** How long a presigned URL stays valid. */
  redirectSeconds: number;
  /** The endpoint as clients reach it, for presigned URLs, when it is not `endpoint` (an internal address); '' for `endpoint`. */
  publicEndpoint: string;
  /** Connections to S3 at most (each blob GET being sent holds one). */
  maxConnections: number;
  /** A connection to S3 silent for this long fails its request. */
  timeoutSeconds: number;
}

export type Action = 'pull' | 'push' | 'delete';

/** What a webhook can be told about: a manifest pushed, or a manifest or tag deleted. */
export type ChangeAction = 'push' | 'delete';

/** One receiver of change events. */
export interface WebhookEndpoint {
  /** http(s) URL the events are POSTed to; credentials in it (`https://user:pass@…`) are sent as Basic auth. */
  url: string;
  events: ChangeAction[];
  /** Repository globs, as in access rules (`team/**`); an event for any other repository is not sent here. */
  repositories: string[];
  /** Sent with every delivery (an `Authorization` for the receiver, say); never logged. */
  headers?: Record<string, string>;
  /** With a secret, each delivery is signed: `X-Chartroom-Signature: sha256=<HMAC-SHA256 of the body, hex>`. */
  secret?: string;
  /** How long one attempt may take before it counts as failed (and is retried). */
  timeoutSeconds: number;
}

/** Webhooks and how they are delivered: in process, in the background, retried, not kept across restarts. */
export interface WebhooksConfig {
  endpoints: WebhookEndpoint[];
  /** Attempts per delivery, the first one included. */
  attempts: number;
  /** Wait before the first retry; it doubles with each retry (with jitter) up to `maxBackoffSeconds`. */
  backoffSeconds: number;
  maxBackoffSeconds: number;
  /** Deliveries waiting (to be sent or retried) at most; when full, the oldest is dropped. */
  queueSize: number;
  /** Deliveries in flight at once, over all endpoints. */
  concurrency: number;
  /** On shutdown, how long pending deliveries get one more attempt before they are dropped. */
  shutdownSeconds: number;
}

/** Who may do what where: the first rule whose pattern matches a repository decides. */
export interface AccessRule {
  /** Repository glob: `*` within one path segment, `**` across segments (`team/**`). */
  repository: string;
  /** User names, group names, `*` (anyone signed in) or `anonymous` (anyone at all). */
  pull?: string[];
  push?: string[];
  delete?: string[];
}

export interface ConfigUser {
  name: string;
  /** A bcrypt hash, as `htpasswd -B` writes it. */
  password: string;
  groups?: string[];
  /** Every action on every repository. */
  admin?: boolean;
}

export interface AuthConfig {
  enabled: boolean;
  /** The token service's name: the JWT audience and the challenge's `service`. */
  service: string;
  issuer: string;
  /** Access token lifetime (the spec's minimum is 60 s). */
  tokenSeconds: number;
  /** Refresh (identity) token lifetime. */
  refreshSeconds: number;
  /** PEM private key (ES256) shared by replicas; default: created once in `<data>/auth/`. */
  signingKey?: string;
  /** An htpasswd file with bcrypt entries. */
  htpasswd?: string;
  users: ConfigUser[];
  /** Group name → member user names (users can also name their groups). */
  groups: Record<string, string[]>;
  rules: AccessRule[];
  /** Failed logins allowed per client address per minute before 429. */
  failedLoginsPerMinute: number;
}

/** RFC 9110 token characters: what a header name may be made of. */
const headerName = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";

const principals = { type: 'array', items: { type: 'string', minLength: 1 }, nullable: true } as const;

export const configSchema: JSONSchemaType<Config> = {
  type: 'object',
  additionalProperties: false,
  required: ['host', 'port', 'data', 'metadata', 'logLevel', 'tls', 'trustProxy', 'limits', 'charts', 'auth', 'gc', 'webhooks', 'storage', 'uploads'],
  properties: {
    host: { type: 'string', minLength: 1, default: '127.0.0.1' },
    port: { type: 'integer', minimum: 0, maximum: 65535, default: 5000 },
    data: { type: 'string', minLength: 1, default: './data' },
    metadata: {
      type: 'object',
      additionalProperties: false,
      required: ['driver', 'url', 'poolSize'],
      default: {} as Config['metadata'],
      properties: {
        driver: { type: 'string', enum: ['sqlite', 'postgres'], default: 'sqlite' },
        url: { type: 'string', default: '' },
        poolSize: { type: 'integer', minimum: 1, maximum: 1000, default: 10 },
      },
    },
    tls: {
      type: 'object',
      additionalProperties: false,
      required: ['cert', 'key'],
      default: {} as Config['tls'],
      properties: { cert: { type: 'string', default: '' }, key: { type: 'string', default: '' } },
    },
    trustProxy: { type: 'string', default: '' },
    logLevel: {
      type: 'string',
      enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
      default: 'info',
    },
    limits: {
      type: 'object',
      additionalProperties: false,
      required: ['maxManifestBytes', 'maxBlobBytes', 'headersTimeoutSeconds', 'idleTimeoutSeconds', 'minBodyBytesPerSecond', 'bodyRateWindowSeconds', 'maxConcurrentUploads'],
      default: {} as Config['limits'],
      properties: {
        maxManifestBytes: { type: 'integer', minimum: 1024, maximum: 64 * 1024 * 1024, default: 4 * 1024 * 1024 },
        maxBlobBytes: { type: 'integer', minimum: 0, default: 0 },
        headersTimeoutSeconds: { type: 'integer', minimum: 1, default: 30 },
        idleTimeoutSeconds: { type: 'integer', minimum: 1, default: 120 },
        minBodyBytesPerSecond: { type: 'integer', minimum: 0, default: 100 },
        bodyRateWindowSeconds: { type: 'integer', minimum: 1, default: 60 },
        maxConcurrentUploads: { type: 'integer', minimum: 1, default: 128 },
      },
    },
    charts: {
      type: 'object',
      additionalProperties: false,
      required: ['validate', 'allowOverwrite', 'maxUnpackedBytes', 'maxFileBytes', 'indexFormat', 'indexUrls', 'search'],
      default: {} as Config['charts'],
      properties: {
        validate: { type: 'boolean', default: true },
        allowOverwrite: { type: 'boolean', default: false },
        maxUnpackedBytes: { type: 'integer', minimum: 1024, default: 256 * 1024 * 1024 },
        maxFileBytes: { type: 'integer', minimum: 1024, default: 1024 * 1024 },
        indexFormat: { type: 'string', enum: ['yaml', 'json'], default: 'yaml' },
        indexUrls: { type: 'string', enum: ['relative', 'oci'], default: 'relative' },
        search: { type: 'boolean', default: true },
      },
    },
    auth: {
      type: 'object',
      additionalProperties: false,
      required: ['enabled', 'service', 'issuer', 'tokenSeconds', 'refreshSeconds', 'users', 'groups', 'rules', 'failedLoginsPerMinute'],
      default: {} as AuthConfig,
      properties: {
        enabled: { type: 'boolean', default: false },
        service: { type: 'string', minLength: 1, default: 'chartroom' },
        issuer: { type: 'string', minLength: 1, default: 'chartroom' },
        tokenSeconds: { type: 'integer', minimum: 60, maximum: 86400, default: 300 },
        refreshSeconds: { type: 'integer', minimum: 60, default: 30 * 86400 },
        signingKey: { type: 'string', minLength: 1, nullable: true },
        htpasswd: { type: 'string', minLength: 1, nullable: true },
        users: {
          type: 'array',
          default: [],
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['name', 'password'],
            properties: {
              name: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[^:\\s]+$' },
              password: { type: 'string', pattern: '^\\$2[abxy]?\\$\\d{2}\\$' },
              groups: { type: 'array', items: { type: 'string', minLength: 1 }, nullable: true },
              admin: { type: 'boolean', nullable: true },
            },
          },
        },
        groups: { type: 'object', default: {}, required: [], additionalProperties: { type: 'array', items: { type: 'string' } } },
        rules: {
          type: 'array',
          default: [],
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['repository'],
            properties: { repository: { type: 'string', minLength: 1 }, pull: principals, push: principals, delete: principals },
          },
        },
        failedLoginsPerMinute: { type: 'integer', minimum: 1, default: 10 },
      },
    },
    gc: {
      type: 'object',
      additionalProperties: false,
      required: ['intervalSeconds', 'graceSeconds', 'untagged'],
      default: {} as Config['gc'],
      properties: {
        intervalSeconds: { type: 'integer', minimum: 0, default: 0 },
        graceSeconds: { type: 'integer', minimum: 0, default: 3600 },
        untagged: { type: 'boolean', default: false },
      },
    },
    webhooks: {
      type: 'object',
      additionalProperties: false,
      required: ['endpoints', 'attempts', 'backoffSeconds', 'maxBackoffSeconds', 'queueSize', 'concurrency', 'shutdownSeconds'],
      default: {} as WebhooksConfig,
      properties: {
        endpoints: {
          type: 'array',
          default: [],
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['url', 'events', 'repositories', 'timeoutSeconds'],
            properties: {
              // Checked as a URL after validation, for a clearer message than a pattern gives.
              url: { type: 'string', minLength: 1 },
              events: {
                type: 'array',
                minItems: 1,
                uniqueItems: true,
                items: { type: 'string', enum: ['push', 'delete'] },
                default: ['push', 'delete'],
              },
              repositories: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 }, default: ['**'] },
              headers: {
                type: 'object',
                nullable: true,
                required: [],
                propertyNames: { pattern: headerName },
                additionalProperties: { type: 'string', pattern: '^[^\\r\\n\\0]*$' },
              },
              secret: { type: 'string', minLength: 1, nullable: true },
              timeoutSeconds: { type: 'number', exclusiveMinimum: 0, maximum: 300, default: 10 },
            },
          },
        },
        attempts: { type: 'integer', minimum: 1, maximum: 20, default: 5 },
        backoffSeconds: { type: 'number', minimum: 0, default: 1 },
        maxBackoffSeconds: { type: 'number', minimum: 0, default: 60 },
        queueSize: { type: 'integer', minimum: 1, maximum: 100_000, default: 1000 },
        concurrency: { type: 'integer', minimum: 1, maximum: 64, default: 4 },
        shutdownSeconds: { type: 'number', minimum: 0, maximum: 60, default: 5 },
      },
    },
    storage: {
      type: 'object',
      additionalProperties: false,
      required: ['driver', 's3'],
      default: {} as StorageConfig,
      properties: {
        driver: { type: 'string', enum: ['disk', 's3'], default: 'disk' },
        s3: {
          type: 'object',
          additionalProperties: false,
          required: [
            'endpoint', 'region', 'bucket', 'prefix', 'accessKeyId', 'secretAccessKey', 'forcePathStyle', 'partSizeBytes',
            'redirect', 'redirectSeconds', 'publicEndpoint', 'maxConnections', 'timeoutSeconds',
          ],
          default: {} as S3StorageConfig,
          properties: {
            endpoint: { type: 'string', default: '' },
            region: { type: 'string', minLength: 1, default: 'us-east-1' },
            // S3's bucket name rules; checked to be present when the driver is s3.
            bucket: { type: 'string', pattern: '^([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])?$', default: '' },
            // S3's safe key characters: nothing that needs escaping in a URL or a copy source.
            prefix: { type: 'string', pattern: "^[A-Za-z0-9!_.*'()/-]*$", default: '' },
            accessKeyId: { type: 'string', default: '' },
            secretAccessKey: { type: 'string', default: '' },
            forcePathStyle: { type: 'boolean', default: false },
            partSizeBytes: { type: 'integer', minimum: 5 * 1024 * 1024, maximum: 5 * 1024 * 1024 * 1024, default: 8 * 1024 * 1024 },
            redirect: { type: 'boolean', default: false },
            // SigV4 presigned URLs last a week at most. Twenty minutes, as distribution's S3 driver.
            redirectSeconds: { type: 'integer', minimum: 1, maximum: 7 * 86400, default: 1200 },
            publicEndpoint: { type: 'string', default: '' },
            maxConnections: { type: 'integer', minimum: 1, maximum: 10_000, default: 256 },
            timeoutSeconds: { type: 'integer', minimum: 1, default: 120 },
          },
        },
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
  CHARTROOM_METADATA_DRIVER: 'metadata.driver',
  CHARTROOM_DATABASE_URL: 'metadata.url',
  CHARTROOM_DATABASE_POOL_SIZE: 'metadata.poolSize',
  CHARTROOM_LOG_LEVEL: 'logLevel',
  CHARTROOM_MAX_MANIFEST_BYTES: 'limits.maxManifestBytes',
  CHARTROOM_MAX_BLOB_BYTES: 'limits.maxBlobBytes',
  CHARTROOM_HEADERS_TIMEOUT_SECONDS: 'limits.headersTimeoutSeconds',
  CHARTROOM_IDLE_TIMEOUT_SECONDS: 'limits.idleTimeoutSeconds',
  CHARTROOM_MIN_BODY_BYTES_PER_SECOND: 'limits.minBodyBytesPerSecond',
  CHARTROOM_MAX_CONCURRENT_UPLOADS: 'limits.maxConcurrentUploads',
  CHARTROOM_UPLOAD_STALE_SECONDS: 'uploads.staleAfterSeconds',
  CHARTROOM_GC_INTERVAL_SECONDS: 'gc.intervalSeconds',
  CHARTROOM_GC_GRACE_SECONDS: 'gc.graceSeconds',
  CHARTROOM_GC_UNTAGGED: 'gc.untagged',
  CHARTROOM_TLS_CERT: 'tls.cert',
  CHARTROOM_TLS_KEY: 'tls.key',
  CHARTROOM_TRUST_PROXY: 'trustProxy',
  CHARTROOM_CHARTS_VALIDATE: 'charts.validate',
  CHARTROOM_CHARTS_ALLOW_OVERWRITE: 'charts.allowOverwrite',
  CHARTROOM_CHARTS_SEARCH: 'charts.search',
  CHARTROOM_AUTH_ENABLED: 'auth.enabled',
  CHARTROOM_AUTH_HTPASSWD: 'auth.htpasswd',
  CHARTROOM_AUTH_SIGNING_KEY: 'auth.signingKey',
  CHARTROOM_STORAGE_DRIVER: 'storage.driver',
  CHARTROOM_S3_ENDPOINT: 'storage.s3.endpoint',
  CHARTROOM_S3_PUBLIC_ENDPOINT: 'storage.s3.publicEndpoint',
  CHARTROOM_S3_REGION: 'storage.s3.region',
  CHARTROOM_S3_BUCKET: 'storage.s3.bucket',
  CHARTROOM_S3_PREFIX: 'storage.s3.prefix',
  CHARTROOM_S3_ACCESS_KEY_ID: 'storage.s3.accessKeyId',
  CHARTROOM_S3_SECRET_ACCESS_KEY: 'storage.s3.secretAccessKey',
  CHARTROOM_S3_FORCE_PATH_STYLE: 'storage.s3.forcePathStyle',
  CHARTROOM_S3_REDIRECT: 'storage.s3.redirect',
};
