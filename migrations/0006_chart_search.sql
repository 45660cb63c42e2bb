-- Server-side chart search: one document per chart (repository) that has visible versions,
-- written in the same transaction as the chart rows and tags that change it. The document's
-- text is that of the chart's latest version (the newest stable one, else the newest).

-- What a query filters and sorts on, kept small so that scanning thousands of rows stays cheap.
CREATE TABLE chart_search (
  repo_id         INTEGER PRIMARY KEY REFERENCES repositories(id) ON DELETE CASCADE,
  repository      TEXT NOT NULL,
  name_key        TEXT NOT NULL,          -- lower-case chart name, for exact and prefix name ranking
  latest          TEXT NOT NULL,          -- newest visible version
  latest_stable   TEXT,                   -- newest visible version that is not a prerelease
  deprecated      INTEGER NOT NULL,
  keywords        TEXT NOT NULL,          -- lower-case, each between newlines, for the keyword filter
  maintainers     TEXT NOT NULL,          -- lower-case names and emails, each between newlines
  version_list    TEXT NOT NULL,          -- every visible version, newest first, one per line
  majors          TEXT NOT NULL           -- their major numbers, each between newlines: narrows semver-range filters
);
CREATE INDEX chart_search_name ON chart_search(name_key, repository);

-- What a result shows, read only for the hits on a page.
CREATE TABLE chart_search_docs (
  repo_id         INTEGER PRIMARY KEY REFERENCES chart_search(repo_id) ON DELETE CASCADE,
  namespace       TEXT NOT NULL,
  doc_manifest_id INTEGER NOT NULL,       -- the version whose text is indexed
  text_hash       TEXT NOT NULL,          -- of that text: a new version with the same text leaves chart_fts alone
  updated_at      INTEGER NOT NULL,
  summary         TEXT NOT NULL,          -- JSON: name, description, keywords, icon, home of the indexed version
  versions        TEXT NOT NULL           -- JSON: every visible version with its app version, date and digest
);

-- The words of each chart's text, for matching and bm25 ranking. The text itself is not kept here
-- (it is in charts, chart_files and chart_search_docs); contentless_delete lets a row be replaced.
CREATE VIRTUAL TABLE chart_fts USING fts5(
  name, repository, description, keywords, maintainers, annotations, app_version, readme,
  tokenize = 'unicode61 remove_diacritics 2',
  content = '',
  contentless_delete = 1
);
-- Pushes only add segments; merging them is left to idle moments (see sqlite-metadata.ts), so that
-- a push does not pay for rewriting the index. Under a long run of pushes FTS5 still merges a level
-- once it holds 64 segments (queries slow down a little until then).
INSERT INTO chart_fts (chart_fts, rank) VALUES ('automerge', 0);
INSERT INTO chart_fts (chart_fts, rank) VALUES ('crisismerge', 64);
