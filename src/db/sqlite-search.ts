import { createHash } from 'node:crypto';
import semver from 'semver';
import { versionTag, type ChartMetadata } from '../charts/chart-yaml.js';
import { isPrerelease, latestOf, sortNewestFirst } from '../charts/versions.js';
import type { Db } from './database.js';
import { foldWord, wordPattern } from '../search/words.js';
import { summaryJson, toSearchHit } from './search-hits.js';
import {
  type ChartSearchHit,
  type ChartSearchPage,
  type ChartSearchQuery,
  type SearchCandidate,
  type SearchTerm,
  type SearchVersion,
} from './metadata.js';

/** A visible version, as a push's upkeep needs it. */
interface VersionRow {
  manifest_id: number;
  version: string;
  created_at: number;
}

/** A visible version, as a hit shows it. */
interface HitVersionRow {
  version: string;
  app_version: string | null;
  created_at: number;
  chart_digest: string;
  deprecated: number;
}

interface DocumentRow {
  repository: string;
  namespace: string;
  metadata: string;
  readme: string | null;
}

interface PageRow {
  repo_id: number;
  chosen: string;
  /** All hits, when the statement counts them in the same pass. */
  total?: number;
}

/** A hit: its chart's row of the index, and the version shown. */
interface HitRow extends HitVersionRow {
  repo_id: number;
  repository: string;
  namespace: string;
  chart_deprecated: number;
  updated_at: number;
  summary: string;
  readme: string | null;
}

interface IndexedRow {
  doc_manifest_id: number;
  text_hash: string;
  app_words: string;
  name_key: string;
  repository: string;
}

type Bindings = Record<string, string | number | null>;

// bm25 weights, in chart_fts column order: name, repository, description, keywords, maintainers,
// annotations, readme. A word in the name or keywords says far more than one in a README.
// (appVersion, weighed 1.0 when it was a column, is matched beside the index: see chart_app_words.)
const rankWeights = '10.0, 3.0, 4.0, 6.0, 2.0, 1.0, 0.5';

// How much of a README is indexed: its opening (what the chart is, how to install it); long
// READMEs go on with tables of parameters, which would make every push index thousands of words.
const indexedReadmeChars = 16 * 1024;

// Optional filters, each off when its parameter is null.
const filters = `(:prefix IS NULL OR substr(s.repository, 1, length(:prefix)) = :prefix)
  AND (:keyword IS NULL OR instr(s.keywords, char(10) || :keyword || char(10)) > 0)
  AND (:maintainer IS NULL OR instr(s.maintainers, char(10) || :maintainer || char(10)) > 0)
  AND (:deprecated = 1 OR s.deprecated = 0)
  AND (:majors IS NULL OR EXISTS (SELECT 1 FROM json_each(:majors) m WHERE instr(s.majors, char(10) || m.value || char(10)) > 0))`;

// The version a chart shows: its latest (stable unless prereleases are asked for), or what the
// query's `choose` callback says when it has rules SQL cannot express (semver ranges, access).
const sqlChoice = 'CASE WHEN :prerelease = 1 THEN s.latest ELSE s.latest_stable END';
const callbackChoice = 'chart_search_choice(s.repository, s.latest, s.latest_stable, s.version_list)';

const nameRank = 'CASE WHEN s.name_key = :nameKey THEN 0 WHEN substr(s.name_key, 1, length(:nameKey)) = :nameKey THEN 1 ELSE 2 END';

// The charts found when some word matches an appVersion word (see spreadMatches), scored by bm25 over
// what the index matched of :rank (0 for the :unscored, found by their appVersion alone). The unary
// `+` keeps the id list a filter on the MATCH's rows: as a rowid lookup FTS5 would evaluate the MATCH
// again for every id.
const foundCte = `found AS (
  SELECT chart_fts.rowid AS id, bm25(chart_fts, ${rankWeights}) AS score FROM chart_fts
    WHERE chart_fts MATCH :rank AND +chart_fts.rowid IN (SELECT value FROM json_each(:ids))
  UNION ALL SELECT value, 0 FROM json_each(:unscored))`;

interface Source {
  ctes: string[];
  from: string;
  where: string;
  /** How well a row matched (lower is better), when the source ranks. */
  score?: string;
  /** What a count reads instead of `from`, when it can do without the scores. */
  countFrom?: string;
}

const sources: Record<'match' | 'spread' | 'browse', Source> = {
  match: {
    ctes: [],
    from: 'chart_fts JOIN chart_search s ON s.repo_id = chart_fts.rowid',
    where: 'chart_fts MATCH :match AND',
    score: `bm25(chart_fts, ${rankWeights})`,
  },
  spread: {
    ctes: [foundCte],
    from: 'found JOIN chart_search s ON s.repo_id = found.id',
    where: '',
    score: 'found.score',
    countFrom: 'json_each(:ids) found JOIN chart_search s ON s.repo_id = found.value',
  },
  browse: { ctes: [], from: 'chart_search s', where: '' },
};

/** The ORDER BY of a source: exact name, then name prefix, then the match's score; by name when browsing. */
function orderOf(source: Source, score = source.score): string {
  return score === undefined ? 's.name_key, s.repository' : `${nameRank}, ${score}, s.repository`;
}

function withClause(ctes: string[]): string {
  return ctes.length > 0 ? `WITH ${ctes.join(',\n')}` : '';
}

/** Lower-case entries, each between newlines, so that `instr` finds whole entries only. */
function entryList(entries: (string | undefined)[]): string {
  const kept = entries.flatMap((entry) => (entry ? [entry.toLowerCase().replace(/\n/g, ' ')] : []));
  return `\n${kept.join('\n')}\n`;
}

/** One term as an FTS5 query that treats every word as a string: nothing the user typed is read as syntax. */
function termExpression(term: SearchTerm): string {
  return `(${term.words.map((word) => `"${word.replace(/"/g, '""')}"${term.prefix ? '*' : ''}`).join(' OR ')})`;
}

function matchExpression(terms: SearchTerm[]): string {
  return terms.map(termExpression).join(' AND ');
}

/** The words of an appVersion, folded, each once: `v1.25.3-Alpine` → v1, 25, 3, alpine. */
export function appVersionWords(appVersion: string | undefined): string[] {
  const words = appVersion?.match(wordPattern) ?? [];
  return [...new Set(words.map(foldWord).filter((word) => word !== ''))];
}

// An appVersion word (in chart_search.app_words, space-separated) that is :word, or begins with it when :prefix is 1.
const appNumberMatch = "instr(' ' || app_words || ' ', ' ' || :word || CASE WHEN :prefix = 1 THEN '' ELSE ' ' END) > 0";

// Above every character a word can hold: `word BETWEEN w AND w || top` finds the words starting with w.
const topCharacter = '\u{10FFFF}';

/**
 * Words of digits alone (`1`, `25`) change with nearly every version pushed and are spread over
 * the whole word index: chart_app_words leaves them out (a push then writes none of its pages for
 * a new `1.25.4`), and a query word of digits looks for them in chart_search.app_words instead.
 */
const isNumber = (word: string): boolean => /^[0-9]+$/.test(word);

/** A term's words as appVersion lookups: folded, whole or as a prefix. */
function appLookups(term: SearchTerm): { word: string; prefix: 1 | 0; high: string }[] {
  return term.words.map((word) => {
    const folded = foldWord(word);
    return { word: folded, prefix: term.prefix ? 1 : 0, high: term.prefix ? `${folded}${topCharacter}` : folded };
  });
}

/**
 * The search index over chart rows: `refresh` runs inside the transactions that change a
 * repository's visible chart versions, so the index never lags the charts.
 */
export function createChartSearchIndex(db: Db) {
  // The callback of the query being run: better-sqlite3 runs a statement synchronously, so one slot is enough.
  let activeChoice: ((candidate: SearchCandidate) => string | undefined) | undefined;
  db.function('chart_search_choice', { deterministic: false, directOnly: true }, (repository, latest, latestStable, versionList) => {
    const candidate = {
      repository: repository as string,
      latest: latest as string,
      latestStable: (latestStable as string | null) ?? undefined,
      get versions() {
        return (versionList as string).split('\n');
      },
    };
    return activeChoice?.(candidate) ?? null;
  });

  /** A page of hits and their count, for each source and way of choosing. */
  function pageStatements(source: Source, choice: string) {
    const { ctes, from, where } = source;
    const rank = source.score !== undefined ? `, ${source.score} AS score` : '';
    const callback = choice === callbackChoice;
    return {
      page: callback
        ? // The callback is the costly part: call it once per row (a materialized CTE is never inlined) and count in the same pass.
          db.prepare<Bindings, PageRow>(
            `${withClause([...ctes, `c AS MATERIALIZED (SELECT s.repo_id, s.name_key, s.repository, ${choice} AS chosen${rank} FROM ${from} WHERE ${where} ${filters})`])}
             SELECT repo_id, chosen, COUNT(*) OVER () AS total FROM c s WHERE chosen IS NOT NULL
             ORDER BY ${orderOf(source, rank ? 'score' : undefined)} LIMIT :limit OFFSET :offset`,
          )
        : // ORDER BY with LIMIT keeps only the best rows while sorting (and walks the name index when browsing).
          db.prepare<Bindings, PageRow>(
            `${withClause(ctes)} SELECT s.repo_id, ${choice} AS chosen FROM ${from} WHERE ${where} ${filters} AND chosen IS NOT NULL
             ORDER BY ${orderOf(source)} LIMIT :limit OFFSET :offset`,
          ),
      count: db
        .prepare<Bindings, number>(
          source.countFrom !== undefined
            ? `SELECT COUNT(*) FROM ${source.countFrom} WHERE ${where} ${filters} AND ${choice} IS NOT NULL`
            : `${withClause(ctes)} SELECT COUNT(*) FROM ${from} WHERE ${where} ${filters} AND ${choice} IS NOT NULL`,
        )
        .pluck(),
    };
  }

  const q = {
    visibleVersions: db.prepare<[number], VersionRow>(
      `SELECT c.manifest_id, c.version, c.created_at FROM charts c
       JOIN tags t ON t.manifest_id = c.manifest_id AND t.name = c.version_tag WHERE c.repo_id = ?`,
    ),
    document: db.prepare<[number], DocumentRow>(
      `SELECT r.name AS repository, c.namespace, c.metadata, f.readme FROM charts c JOIN repositories r ON r.id = c.repo_id
       LEFT JOIN chart_files f ON f.manifest_id = c.manifest_id WHERE c.manifest_id = ?`,
    ),
    indexedDocument: db.prepare<[number], IndexedRow>(
      `SELECT d.doc_manifest_id, d.text_hash, s.app_words, s.name_key, s.repository FROM chart_search_docs d
       JOIN chart_search s ON s.repo_id = d.repo_id WHERE d.repo_id = ?`,
    ),
    upsertSearch: db.prepare<Bindings>(
      `INSERT INTO chart_search (repo_id, repository, name_key, latest, latest_stable, deprecated, keywords, maintainers, version_list, majors, app_words)
       VALUES (:repoId, :repository, :nameKey, :latest, :latestStable, :deprecated, :keywords, :maintainers, :versionList, :majors, :appWords)
       ON CONFLICT (repo_id) DO UPDATE SET latest = excluded.latest, latest_stable = excluded.latest_stable, deprecated = excluded.deprecated,
         keywords = excluded.keywords, maintainers = excluded.maintainers, version_list = excluded.version_list, majors = excluded.majors,
         app_words = excluded.app_words`,
    ),
    // Apart, because setting them rewrites their index entries even when they are the same (they rarely change).
    updateName: db.prepare<[string, string, number]>('UPDATE chart_search SET name_key = ?, repository = ? WHERE repo_id = ?'),
    upsertDoc: db.prepare<Bindings>(
      `INSERT INTO chart_search_docs (repo_id, namespace, doc_manifest_id, text_hash, updated_at, summary)
       VALUES (:repoId, :namespace, :docManifestId, :textHash, :updatedAt, :summary)
       ON CONFLICT (repo_id) DO UPDATE SET namespace = excluded.namespace, doc_manifest_id = excluded.doc_manifest_id,
         text_hash = excluded.text_hash, updated_at = excluded.updated_at, summary = excluded.summary`,
    ),
    updateVersions: db.prepare<[string, string | null, string, string, number]>(
      'UPDATE chart_search SET latest = ?, latest_stable = ?, version_list = ?, majors = ? WHERE repo_id = ?',
    ),
    updateDocUpdatedAt: db.prepare<[number, number]>('UPDATE chart_search_docs SET updated_at = ? WHERE repo_id = ?'),
    deleteAppWord: db.prepare<[string, number]>('DELETE FROM chart_app_words WHERE word = ? AND repo_id = ?'),
    insertAppWord: db.prepare<[string, number]>('INSERT OR IGNORE INTO chart_app_words (word, repo_id) VALUES (?, ?)'),
    deleteSearch: db.prepare<[number]>('DELETE FROM chart_search WHERE repo_id = ?'),
    deleteText: db.prepare<[number]>('DELETE FROM chart_fts WHERE rowid = ?'),
    insertText: db.prepare<[number, string, string, string, string, string, string, string]>(
      `INSERT INTO chart_fts (rowid, name, repository, description, keywords, maintainers, annotations, readme)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    chartRepositories: db.prepare<[], { repo_id: number }>('SELECT DISTINCT repo_id FROM charts'),
    clearSearch: db.prepare<[]>('DELETE FROM chart_search'),
    clearText: db.prepare<[]>('DELETE FROM chart_fts'),
    clearAppWords: db.prepare<[]>('DELETE FROM chart_app_words'),
    count: db.prepare<[], number>('SELECT COUNT(*) FROM chart_search').pluck(),
    needsBuild: db.prepare<[], number>('SELECT EXISTS (SELECT 1 FROM charts) AND NOT EXISTS (SELECT 1 FROM chart_search)').pluck(),
    matchBySql: pageStatements(sources.match, sqlChoice),
    matchByCallback: pageStatements(sources.match, callbackChoice),
    spreadBySql: pageStatements(sources.spread, sqlChoice),
    spreadByCallback: pageStatements(sources.spread, callbackChoice),
    browseBySql: pageStatements(sources.browse, sqlChoice),
    browseByCallback: pageStatements(sources.browse, callbackChoice),
    // The charts with an appVersion word in [word, high]: an index lookup, or for a number a scan of the words of every chart.
    anyAppWord: db.prepare<[string, string], number>('SELECT EXISTS (SELECT 1 FROM chart_app_words WHERE word BETWEEN ? AND ?)').pluck(),
    appWordCharts: db.prepare<[string, string], number>('SELECT repo_id FROM chart_app_words WHERE word BETWEEN ? AND ?').pluck(),
    anyAppNumber: db.prepare<Bindings, number>(`SELECT EXISTS (SELECT 1 FROM chart_search WHERE ${appNumberMatch})`).pluck(),
    appNumberCharts: db.prepare<Bindings, number>(`SELECT repo_id FROM chart_search WHERE ${appNumberMatch}`).pluck(),
    textMatches: db.prepare<[string], number>('SELECT rowid FROM chart_fts WHERE chart_fts MATCH ?').pluck(),
    // A page's hits at once, from a JSON array of [repo_id, version tag] pairs, in its order.
    hits: db.prepare<[number, string], HitRow>(
      `SELECT s.repo_id, s.repository, d.namespace, s.deprecated AS chart_deprecated, d.updated_at, d.summary,
         CASE WHEN ? = 1 THEN (SELECT readme FROM chart_files f WHERE f.manifest_id = d.doc_manifest_id) END AS readme,
         c.version, c.app_version, c.created_at, c.chart_digest, c.deprecated
       FROM json_each(?) hit
       JOIN chart_search s ON s.repo_id = hit.value ->> 0
       JOIN chart_search_docs d ON d.repo_id = s.repo_id
       JOIN charts c ON c.repo_id = s.repo_id AND c.version_tag = hit.value ->> 1
       JOIN tags t ON t.manifest_id = c.manifest_id AND t.name = c.version_tag
       ORDER BY hit.key`,
    ),
    hitVersions: db.prepare<[number], HitVersionRow>(
      `SELECT c.version, c.app_version, c.created_at, c.chart_digest, c.deprecated FROM charts c
       JOIN tags t ON t.manifest_id = c.manifest_id AND t.name = c.version_tag WHERE c.repo_id = ?`,
    ),
    nameKeys: db.prepare<[], string>('SELECT DISTINCT name_key FROM chart_search').pluck(),
    merge: db.prepare<[]>("INSERT INTO chart_fts (chart_fts, rank) VALUES ('merge', 256)"),
    optimize: db.prepare<[]>("INSERT INTO chart_fts (chart_fts) VALUES ('optimize')"),
    totalChanges: db.prepare<[], number>('SELECT total_changes()').pluck(),
  };

  function removeDocument(repoId: number, appWords: string): true {
    writeAppWords(repoId, [], appWords);
    q.deleteSearch.run(repoId);
    q.deleteText.run(repoId);
    return true;
  }

  /** What a search document says of a repository's visible versions (newest first). */
  function versionFacts(rows: VersionRow[]) {
    return {
      latest: (rows[0] as VersionRow).version,
      latestStable: rows.find((row) => !isPrerelease(row.version))?.version ?? null,
      versionList: rows.map((row) => row.version).join('\n'),
      majors: entryList([...new Set(rows.map((row) => String(semver.major(row.version))))]),
      updatedAt: rows.reduce((latest, row) => Math.max(latest, row.created_at), 0),
    };
  }

  /** The indexed text of a chart version, in chart_fts column order. */
  function indexedText(row: DocumentRow, meta: ChartMetadata, maintainers: (string | undefined)[]): string[] {
    return [
      meta.name,
      row.repository,
      meta.description,
      (meta.keywords ?? []).join(' '),
      maintainers.filter(Boolean).join(' '),
      Object.entries(meta.annotations ?? {}).flat().join(' '),
      row.readme?.slice(0, indexedReadmeChars),
    ].map((field) => field ?? '');
  }

  /** Changes the repository's appVersion words from `before` (space-separated) to `words`, row by changed row. */
  function writeAppWords(repoId: number, words: string[], before = ''): void {
    const kept = words.filter((word) => !isNumber(word));
    const old = new Set(before.split(' ').filter((word) => word !== '' && !isNumber(word)));
    for (const word of old) if (!kept.includes(word)) q.deleteAppWord.run(word, repoId);
    for (const word of kept) if (!old.has(word)) q.insertAppWord.run(word, repoId);
  }

  /**
   * Brings a repository's search document in line with its visible chart versions; true when the
   * full-text index changed. The costly part is rewriting the chart's full-text row (FTS5 writes a
   * new segment for it), so that is done only when the indexed text changed: a new version with a
   * new appVersion (matched from chart_app_words) and the same description, keywords and README
   * leaves chart_fts alone.
   */
  function refresh(repoId: number): boolean {
    const indexed = q.indexedDocument.get(repoId);
    const rows = sortNewestFirst(q.visibleVersions.all(repoId));
    const doc = latestOf(rows);
    if (!doc) return indexed ? removeDocument(repoId, indexed.app_words) : false;
    const facts = versionFacts(rows);
    // Pushing an older version leaves the indexed text alone: only the version list changes.
    if (indexed?.doc_manifest_id === doc.manifest_id) {
      q.updateVersions.run(facts.latest, facts.latestStable, facts.versionList, facts.majors, repoId);
      q.updateDocUpdatedAt.run(facts.updatedAt, repoId);
      return false;
    }
    const row = q.document.get(doc.manifest_id) as DocumentRow;
    const meta = JSON.parse(row.metadata) as ChartMetadata;
    const maintainers = (meta.maintainers ?? []).flatMap((m) => [m.name, m.email]);
    const text = indexedText(row, meta, maintainers);
    const textHash = createHash('sha256').update(JSON.stringify(text)).digest('base64');
    const appWords = appVersionWords(meta.appVersion);
    const { updatedAt, ...listed } = facts;
    const nameKey = meta.name.toLowerCase();
    q.upsertSearch.run({
      repoId,
      repository: row.repository,
      nameKey,
      ...listed,
      deprecated: meta.deprecated ? 1 : 0,
      keywords: entryList(meta.keywords ?? []),
      maintainers: entryList(maintainers),
      appWords: appWords.join(' '),
    });
    if (indexed && (indexed.name_key !== nameKey || indexed.repository !== row.repository)) q.updateName.run(nameKey, row.repository, repoId);
    writeAppWords(repoId, appWords, indexed?.app_words);
    q.upsertDoc.run({ repoId, namespace: row.namespace, docManifestId: doc.manifest_id, textHash, updatedAt, summary: summaryJson(meta) });
    if (indexed?.text_hash === textHash) return false;
    q.deleteText.run(repoId);
    q.insertText.run(repoId, ...(text as [string, string, string, string, string, string, string]));
    return true;
  }

  function clear(): void {
    q.clearAppWords.run();
    q.clearSearch.run();
    q.clearText.run();
  }

  function rebuild(): number {
    clear();
    for (const { repo_id } of q.chartRepositories.all()) refresh(repo_id);
    q.optimize.run();
    return q.count.get() as number;
  }

  function toSearchVersion(row: HitVersionRow): SearchVersion {
    return {
      version: row.version,
      ...(row.app_version !== null ? { appVersion: row.app_version } : {}),
      createdAt: row.created_at,
      chartDigest: row.chart_digest,
      deprecated: row.deprecated === 1,
    };
  }

  function hitsOf(page: { repo_id: number; chosen: string }[], query: ChartSearchQuery): ChartSearchHit[] {
    const rows = q.hits.all(query.withReadme ? 1 : 0, JSON.stringify(page.map((row) => [row.repo_id, versionTag(row.chosen)])));
    return rows.map((row) => {
      const versions = query.withVersions ? sortNewestFirst(q.hitVersions.all(row.repo_id)).map(toSearchVersion) : undefined;
      return toSearchHit({ ...row, deprecated: row.chart_deprecated === 1, updatedAt: row.updated_at }, toSearchVersion(row), versions);
    });
  }

  /** The charts with an appVersion word the term matches. */
  function appWordCharts(term: SearchTerm): Set<number> {
    return new Set(
      appLookups(term).flatMap((w) => (isNumber(w.word) ? q.appNumberCharts.all({ word: w.word, prefix: w.prefix }) : q.appWordCharts.all(w.word, w.high))),
    );
  }

  function hasAppWord(term: SearchTerm): boolean {
    return appLookups(term).some((w) => (isNumber(w.word) ? q.anyAppNumber.get({ word: w.word, prefix: w.prefix }) : q.anyAppWord.get(w.word, w.high)) === 1);
  }

  /**
   * The charts whose every term matches the full-text index or their appVersion words, and what
   * ranks them: a MATCH over the index (`rank`), and those of them it does not match (`unscored`).
   * The terms no appVersion matches (`text`) must all match the index: their MATCH gives the
   * candidates; each other term keeps those that match it in the index or in their appVersion.
   * Each MATCH runs once over the index (FTS5 evaluating one again per row, by rowid, re-reads a
   * prefix's whole doclist every time: seconds for `gateway 1` over 10,000 charts).
   */
  function spreadMatches(text: SearchTerm[], byAppVersion: SearchTerm[]): { rank: string; ids: number[]; unscored: number[] } {
    const any = byAppVersion.map(termExpression).join(' OR ');
    const rank = text.length > 0 ? matchExpression(text) : any;
    const ranked = new Set(q.textMatches.all(rank));
    // Without text terms, the first term's candidates are its own index matches (the ranked ones, when it is the only term) and appVersion charts.
    const [first, ...others] = byAppVersion as [SearchTerm, ...SearchTerm[]];
    const found =
      text.length > 0 ? ranked : new Set([...(others.length === 0 ? ranked : q.textMatches.all(termExpression(first))), ...appWordCharts(first)]);
    for (const term of text.length > 0 ? byAppVersion : others) {
      const inText = new Set(q.textMatches.all(text.length > 0 ? `${rank} AND ${termExpression(term)}` : termExpression(term)));
      const inAppVersion = appWordCharts(term);
      for (const id of found) if (!inText.has(id) && !inAppVersion.has(id)) found.delete(id);
    }
    const ids = [...found];
    return { rank, ids, unscored: ids.filter((id) => !ranked.has(id)) };
  }

  /** The statements and bindings that find the query's rows: one MATCH, unless some word matches an appVersion. */
  function matching(query: ChartSearchQuery): { statements: ReturnType<typeof pageStatements>; bindings: Bindings } {
    const callback = query.choose !== undefined;
    if (query.terms.length === 0) return { statements: callback ? q.browseByCallback : q.browseBySql, bindings: {} };
    const byAppVersion = query.terms.filter(hasAppWord);
    if (byAppVersion.length === 0) {
      return { statements: callback ? q.matchByCallback : q.matchBySql, bindings: { match: matchExpression(query.terms), nameKey: query.nameKey } };
    }
    const text = query.terms.filter((term) => !byAppVersion.includes(term));
    const { rank, ids, unscored } = spreadMatches(text, byAppVersion);
    return {
      statements: callback ? q.spreadByCallback : q.spreadBySql,
      bindings: { rank, ids: JSON.stringify(ids), unscored: JSON.stringify(unscored), nameKey: query.nameKey },
    };
  }

  function search(query: ChartSearchQuery): ChartSearchPage {
    const { statements, bindings: matchBindings } = matching(query);
    const bindings: Bindings = {
      prefix: query.repositoryPrefix ?? null,
      keyword: query.keyword ?? null,
      maintainer: query.maintainer ?? null,
      deprecated: query.includeDeprecated ? 1 : 0,
      prerelease: query.includePrerelease ? 1 : 0,
      majors: query.majors ? JSON.stringify(query.majors.map(String)) : null,
      ...matchBindings,
    };
    activeChoice = query.choose;
    try {
      const rows = statements.page.all({ ...bindings, limit: query.limit, offset: query.offset });
      // A short first page is all there is; otherwise count (unless the page carries the count).
      const total =
        rows[0]?.total ?? (query.offset === 0 && rows.length < query.limit ? rows.length : (statements.count.get(bindings) as number));
      return { total, hits: hitsOf(rows, query) };
    } finally {
      activeChoice = undefined;
    }
  }

  /**
   * Merges some of the index's segments (pushes only add them); false once there is nothing left to merge.
   * The command itself counts as one change: FTS5 did work only when the count grew by 2 or more.
   */
  function mergeSome(): boolean {
    const before = q.totalChanges.get();
    q.merge.run();
    return (q.totalChanges.get() ?? 0) - (before ?? 0) >= 2;
  }

  return {
    refresh,
    clear,
    rebuild,
    mergeSome,
    search,
    /** True when charts exist but the index is empty (a database from before search existed). */
    needsBuild: () => q.needsBuild.get() === 1,
    nameKeys: () => q.nameKeys.all(),
  };
}
