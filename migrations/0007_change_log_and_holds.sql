-- Changes to a repository's manifests and tags, written in the same transaction as the change,
-- so that other processes on the same database (`chartroom gc`, `chartroom import`, replicas)
-- can bring their caches along. Rows older than an hour are pruned.
CREATE TABLE change_log (
  id         INTEGER PRIMARY KEY,
  repository TEXT NOT NULL,
  writer     TEXT NOT NULL,
  at         INTEGER NOT NULL
);
CREATE INDEX change_log_at ON change_log(at);

-- While a hold is live (a backup copying blob files), garbage collection removes no file.
CREATE TABLE holds (
  name       TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
