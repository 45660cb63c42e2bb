-- What a push costs the search index. Nearly every version pushed brings a new appVersion, so
-- with appVersion in the full-text index nearly every push rewrote its chart's FTS row (a new
-- index segment per push, 0.3-0.5 ms of a ~4 ms push) though the chart's other text had not
-- changed. appVersion's words now live in a small table of their own, matched beside the index
-- (see sqlite-search.ts); a push whose other text is unchanged leaves chart_fts alone.
-- And the search document no longer carries every version as JSON (rewritten on every push,
-- growing with the chart's history): a hit's versions are read from the chart rows.
-- The index is emptied here and rebuilt when the database is next opened (see needsBuild).

DELETE FROM chart_search_docs;
DELETE FROM chart_search;
DROP TABLE chart_fts;

CREATE VIRTUAL TABLE chart_fts USING fts5(
  name, repository, description, keywords, maintainers, annotations, readme,
  tokenize = 'unicode61 remove_diacritics 2',
  content = '',
  contentless_delete = 1
);
INSERT INTO chart_fts (chart_fts, rank) VALUES ('automerge', 0);
INSERT INTO chart_fts (chart_fts, rank) VALUES ('crisismerge', 64);

-- The indexed version's appVersion, as words folded the way the full-text index folds them
-- (lower case, no diacritics), one row each, for whole-word and prefix lookups by word. Keyed by
-- word alone (no second index, no foreign key to check on every delete): a push changes only
-- the words that changed, found from chart_search.app_words. Words of digits alone, which
-- change with nearly every version, are not kept here: a query word of digits reads
-- chart_search.app_words (see sqlite-search.ts).
CREATE TABLE chart_app_words (
  word    TEXT NOT NULL,
  repo_id INTEGER NOT NULL,
  PRIMARY KEY (word, repo_id)
) WITHOUT ROWID;
-- Every word of the appVersion, space-separated: what a push compares the new ones with.
ALTER TABLE chart_search ADD COLUMN app_words TEXT NOT NULL DEFAULT '';

ALTER TABLE chart_search_docs DROP COLUMN versions;

-- A push's search upkeep reads every visible version of its chart (to order them): from the index
-- alone now, instead of a table row per version (a page read each: 75 µs for 10 versions, 10 µs now).
-- It replaces charts_repo_tag, whose queries it serves as well.
CREATE INDEX charts_repo_versions ON charts(repo_id, version_tag, version, created_at);
DROP INDEX charts_repo_tag;
