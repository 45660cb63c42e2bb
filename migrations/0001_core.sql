-- Repositories, content-addressed blobs and their per-repository links, manifests, tags,
-- manifest references (for referrers and garbage collection) and upload sessions.

CREATE TABLE repositories (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL
);

CREATE TABLE blobs (
  digest     TEXT PRIMARY KEY,
  size       INTEGER NOT NULL,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE repo_blobs (
  repo_id    INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
  digest     TEXT NOT NULL REFERENCES blobs(digest),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (repo_id, digest)
) WITHOUT ROWID;
CREATE INDEX repo_blobs_digest ON repo_blobs(digest);

CREATE TABLE manifests (
  id            INTEGER PRIMARY KEY,
  repo_id       INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
  digest        TEXT NOT NULL,
  media_type    TEXT NOT NULL,
  artifact_type TEXT,
  subject       TEXT,
  annotations   TEXT,
  size          INTEGER NOT NULL,
  content       BLOB NOT NULL,
  created_at    INTEGER NOT NULL,
  UNIQUE (repo_id, digest)
);
CREATE INDEX manifests_subject ON manifests(repo_id, subject) WHERE subject IS NOT NULL;

-- What a manifest points at: its config and layers (blobs) or child manifests (an index).
CREATE TABLE manifest_refs (
  manifest_id INTEGER NOT NULL REFERENCES manifests(id) ON DELETE CASCADE,
  kind        TEXT NOT NULL CHECK (kind IN ('blob', 'manifest')),
  digest      TEXT NOT NULL,
  PRIMARY KEY (manifest_id, kind, digest)
) WITHOUT ROWID;
CREATE INDEX manifest_refs_digest ON manifest_refs(digest);

CREATE TABLE tags (
  repo_id     INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
  name        TEXT NOT NULL,
  manifest_id INTEGER NOT NULL REFERENCES manifests(id) ON DELETE CASCADE,
  updated_at  INTEGER NOT NULL,
  PRIMARY KEY (repo_id, name)
) WITHOUT ROWID;
CREATE INDEX tags_manifest ON tags(manifest_id);

CREATE TABLE uploads (
  id         TEXT PRIMARY KEY,
  repository TEXT NOT NULL,
  "offset"   INTEGER NOT NULL DEFAULT 0,
  started_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX uploads_updated ON uploads(updated_at);
