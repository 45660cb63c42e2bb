-- Chart metadata, read from a Helm chart's archive when its manifest is pushed. A row belongs
-- to the manifest; the chart version is visible while the tag named after its version
-- (`+` written as `_`) points at that manifest.

CREATE TABLE charts (
  manifest_id   INTEGER PRIMARY KEY REFERENCES manifests(id) ON DELETE CASCADE,
  repo_id       INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
  namespace     TEXT NOT NULL,           -- the repository name without its last segment ('' at the top level)
  name          TEXT NOT NULL,
  version       TEXT NOT NULL,
  version_tag   TEXT NOT NULL,
  app_version   TEXT,
  description   TEXT,
  deprecated    INTEGER NOT NULL DEFAULT 0,
  metadata      TEXT NOT NULL,           -- Chart.yaml's known fields as JSON
  chart_digest  TEXT NOT NULL,
  chart_size    INTEGER NOT NULL,
  prov_digest   TEXT,
  readme        TEXT,
  values_yaml   TEXT,
  values_schema TEXT,
  created_at    INTEGER NOT NULL
);
CREATE INDEX charts_namespace ON charts(namespace, name);
CREATE INDEX charts_repo_tag ON charts(repo_id, version_tag);
