-- Chartroom's metadata in PostgreSQL: the same tables as the embedded SQLite store (see
-- migrations/*.sql), for several Chartroom processes sharing one database. Names that are
-- listed in order (repositories, tags) sort byte by byte, as the OCI spec's lexical order and
-- the embedded store do, whatever the database's locale: COLLATE "C".

CREATE TABLE repositories (
  id         BIGSERIAL PRIMARY KEY,
  name       TEXT COLLATE "C" NOT NULL UNIQUE,
  created_at BIGINT NOT NULL
);

CREATE TABLE blobs (
  digest     TEXT COLLATE "C" PRIMARY KEY,
  size       BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);

CREATE TABLE repo_blobs (
  repo_id    BIGINT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
  digest     TEXT COLLATE "C" NOT NULL REFERENCES blobs(digest),
  created_at BIGINT NOT NULL,
  PRIMARY KEY (repo_id, digest)
);
CREATE INDEX repo_blobs_digest ON repo_blobs(digest);

CREATE TABLE manifests (
  id            BIGSERIAL PRIMARY KEY,
  repo_id       BIGINT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
  digest        TEXT COLLATE "C" NOT NULL,
  media_type    TEXT NOT NULL,
  artifact_type TEXT,
  subject       TEXT COLLATE "C",
  annotations   TEXT,
  size          BIGINT NOT NULL,
  content       BYTEA NOT NULL,
  created_at    BIGINT NOT NULL,
  UNIQUE (repo_id, digest)
);
CREATE INDEX manifests_subject ON manifests(repo_id, subject) WHERE subject IS NOT NULL;

CREATE TABLE manifest_refs (
  manifest_id BIGINT NOT NULL REFERENCES manifests(id) ON DELETE CASCADE,
  kind        TEXT NOT NULL CHECK (kind IN ('blob', 'manifest')),
  digest      TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (manifest_id, kind, digest)
);
CREATE INDEX manifest_refs_digest ON manifest_refs(digest);

CREATE TABLE tags (
  repo_id     BIGINT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
  name        TEXT COLLATE "C" NOT NULL,
  manifest_id BIGINT NOT NULL REFERENCES manifests(id) ON DELETE CASCADE,
  updated_at  BIGINT NOT NULL,
  PRIMARY KEY (repo_id, name)
);
CREATE INDEX tags_manifest ON tags(manifest_id);

-- `state` is the blob store's record of the upload (an S3 multipart upload, its parts, the hash
-- state), so that any replica can carry on an upload another one started.
CREATE TABLE uploads (
  id         TEXT PRIMARY KEY,
  repository TEXT NOT NULL,
  "offset"   BIGINT NOT NULL DEFAULT 0,
  state      TEXT,
  started_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX uploads_updated ON uploads(updated_at);

-- A chart version is visible while the tag named after its version points at its manifest.
CREATE TABLE charts (
  manifest_id  BIGINT PRIMARY KEY REFERENCES manifests(id) ON DELETE CASCADE,
  repo_id      BIGINT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
  namespace    TEXT COLLATE "C" NOT NULL,
  name         TEXT COLLATE "C" NOT NULL,
  version      TEXT NOT NULL,
  version_tag  TEXT COLLATE "C" NOT NULL,
  app_version  TEXT,
  description  TEXT,
  deprecated   BOOLEAN NOT NULL DEFAULT FALSE,
  metadata     TEXT NOT NULL,
  chart_digest TEXT NOT NULL,
  chart_size   BIGINT NOT NULL,
  prov_digest  TEXT,
  created_at   BIGINT NOT NULL
);
CREATE INDEX charts_namespace ON charts(namespace, name);
CREATE INDEX charts_repo_tag ON charts(repo_id, version_tag);
CREATE INDEX charts_namespace_repo ON charts(namespace, repo_id, manifest_id);

CREATE TABLE chart_files (
  manifest_id   BIGINT PRIMARY KEY REFERENCES manifests(id) ON DELETE CASCADE,
  readme        TEXT,
  values_yaml   TEXT,
  values_schema TEXT
);

CREATE TABLE robot_tokens (
  name        TEXT PRIMARY KEY,
  secret_hash TEXT NOT NULL,
  scopes      TEXT NOT NULL,
  created_at  BIGINT NOT NULL,
  expires_at  BIGINT,
  revoked_at  BIGINT
);

-- Search: one row per chart (repository) with visible versions, from its latest version, written
-- in the same transaction as the chart rows and tags that change it. `document` holds the
-- weighted words: A the name, B keywords and description, C repository and maintainers,
-- D annotations, app version and README.
CREATE TABLE chart_search (
  repo_id         BIGINT PRIMARY KEY REFERENCES repositories(id) ON DELETE CASCADE,
  repository      TEXT COLLATE "C" NOT NULL,
  namespace       TEXT COLLATE "C" NOT NULL,
  name_key        TEXT COLLATE "C" NOT NULL,
  latest          TEXT NOT NULL,
  latest_stable   TEXT,
  deprecated      BOOLEAN NOT NULL,
  keywords        TEXT[] NOT NULL,
  maintainers     TEXT[] NOT NULL,
  version_list    TEXT[] NOT NULL,
  majors          INTEGER[] NOT NULL,
  doc_manifest_id BIGINT NOT NULL,
  text_hash       TEXT NOT NULL,
  updated_at      BIGINT NOT NULL,
  summary         TEXT NOT NULL,
  versions        TEXT NOT NULL,
  document        TSVECTOR NOT NULL
);
CREATE INDEX chart_search_name ON chart_search(name_key, repository);
CREATE INDEX chart_search_document ON chart_search USING GIN (document);

CREATE TABLE holds (
  name       TEXT PRIMARY KEY,
  expires_at BIGINT NOT NULL
);
