import { createHash } from 'node:crypto';
import semver from 'semver';
import type { ChartMetadata } from '../charts/chart-yaml.js';
import { isPrerelease, latestOf, sortNewestFirst } from '../charts/versions.js';
import type { Db } from './database.js';
import {
  type ChartSearchHit,
  type ChartSearchPage,
  type ChartSearchQuery,
  type SearchCandidate,
  type SearchTerm,
  type SearchVersion,
} from './metadata.js';

interface VersionRow {
  manifest_id: number;
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

interface DocRow {
  repository: string;
  namespace: string;
  deprecated: number;
  updated_at: number;
  summary: string;
  version: string;
  versions: string | null;
  readme: string | null;
}

/** What a hit shows of the indexed version's Chart.yaml. */
interface Summary {
  name: string;
  description?: string;
  keywords?: string[];
  icon?: string;
  home?: string;
}

type Bindings = Record<string, string | number | null>;

// bm25 weights, in chart_fts column order: name, repository, description, keywords, maintainers,
// annotations, app_version, readme. A word in the name or keywords says far more than one in a README.
const rankWeights = '10.0, 3.0, 4.0, 6.0, 2.0, 1.0, 1.0, 0.5';

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

const sources = {
  match: {
    from: 'chart_fts JOIN chart_search s ON s.repo_id = chart_fts.rowid',
    where: 'chart_fts MATCH :match AND',
    order: `CASE WHEN s.name_key = :nameKey THEN 0 WHEN substr(s.name_key, 1, length(:nameKey)) = :nameKey THEN 1 ELSE 2 END,
      bm25(chart_fts, ${rankWeights}), s.repository`,
  },
  browse: { from: 'chart_search s', where: '', order: 's.name_key, s.repository' },
} as const;

/** Lower-case entries, each between newlines, so that `instr` finds whole entries only. */
function entryList(entries: (string | undefined)[]): string {
  const kept = entries.flatMap((entry) => (entry ? [entry.toLowerCase().replace(/\n/g, ' ')] : []));
  return `\n${kept.join('\n')}\n`;
}

/** An FTS5 query that treats every word as a string: nothing the user typed is read as syntax. */
function matchExpression(terms: SearchTerm[]): string {
  return terms
    .map((term) => `(${term.words.map((word) => `"${word.replace(/"/g, '""')}"${term.prefix ? '*' : ''}`).join(' OR ')})`)
    .join(' AND ');
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
  function pageStatements(source: keyof typeof sources, choice: string) {
    const { from, where, order } = sources[source];
    const rank = source === 'match' ? `, bm25(chart_fts, ${rankWeights}) AS score` : '';
    const callback = choice === callbackChoice;
    return {
      page: callback
        ? // The callback is the costly part: call it once per row (a materialized CTE is never inlined) and count in the same pass.
          db.prepare<Bindings, PageRow>(
            `WITH c AS MATERIALIZED (SELECT s.repo_id, s.name_key, s.repository, ${choice} AS chosen${rank} FROM ${from} WHERE ${where} ${filters})
             SELECT repo_id, chosen, COUNT(*) OVER () AS total FROM c s WHERE chosen IS NOT NULL
             ORDER BY ${order.replace(`bm25(chart_fts, ${rankWeights})`, 'score')} LIMIT :limit OFFSET :offset`,
          )
        : // ORDER BY with LIMIT keeps only the best rows while sorting (and walks the name index when browsing).
          db.prepare<Bindings, PageRow>(
            `SELECT s.repo_id, ${choice} AS chosen FROM ${from} WHERE ${where} ${filters} AND chosen IS NOT NULL
             ORDER BY ${order} LIMIT :limit OFFSET :offset`,
          ),
      count: db.prepare<Bindings, number>(`SELECT COUNT(*) FROM ${from} WHERE ${where} ${filters} AND ${choice} IS NOT NULL`).pluck(),
    };
  }

  const q = {
    hasCharts: db.prepare<[number], { one: number }>('SELECT 1 AS one FROM charts WHERE repo_id = ? LIMIT 1'),
    visibleVersions: db.prepare<[number], VersionRow>(
      `SELECT c.manifest_id, c.version, c.app_version, c.created_at, c.chart_digest, c.deprecated FROM charts c
       JOIN tags t ON t.manifest_id = c.manifest_id AND t.name = c.version_tag WHERE c.repo_id = ?`,
    ),
    document: db.prepare<[number], DocumentRow>(
      `SELECT r.name AS repository, c.namespace, c.metadata, f.readme FROM charts c JOIN repositories r ON r.id = c.repo_id
       LEFT JOIN chart_files f ON f.manifest_id = c.manifest_id WHERE c.manifest_id = ?`,
    ),
    indexedDocument: db.prepare<[number], { doc_manifest_id: number; text_hash: string }>(
      'SELECT doc_manifest_id, text_hash FROM chart_search_docs WHERE repo_id = ?',
    ),
    upsertSearch: db.prepare<Bindings>(
      `INSERT INTO chart_search (repo_id, repository, name_key, latest, latest_stable, deprecated, keywords, maintainers, version_list, majors)
       VALUES (:repoId, :repository, :nameKey, :latest, :latestStable, :deprecated, :keywords, :maintainers, :versionList, :majors)
       ON CONFLICT (repo_id) DO UPDATE SET repository = excluded.repository, name_key = excluded.name_key, latest = excluded.latest,
         latest_stable = excluded.latest_stable, deprecated = excluded.deprecated, keywords = excluded.keywords,
         maintainers = excluded.maintainers, version_list = excluded.version_list, majors = excluded.majors`,
    ),
    upsertDoc: db.prepare<Bindings>(
      `INSERT INTO chart_search_docs (repo_id, namespace, doc_manifest_id, text_hash, updated_at, summary, versions)
       VALUES (:repoId, :namespace, :docManifestId, :textHash, :updatedAt, :summary, :versions)
       ON CONFLICT (repo_id) DO UPDATE SET namespace = excluded.namespace, doc_manifest_id = excluded.doc_manifest_id,
         text_hash = excluded.text_hash, updated_at = excluded.updated_at, summary = excluded.summary, versions = excluded.versions`,
    ),
    updateVersions: db.prepare<[string, string | null, string, string, number]>(
      'UPDATE chart_search SET latest = ?, latest_stable = ?, version_list = ?, majors = ? WHERE repo_id = ?',
    ),
    updateDocVersions: db.prepare<[number, string, number]>('UPDATE chart_search_docs SET updated_at = ?, versions = ? WHERE repo_id = ?'),
    deleteSearch: db.prepare<[number]>('DELETE FROM chart_search WHERE repo_id = ?'),
    deleteText: db.prepare<[number]>('DELETE FROM chart_fts WHERE rowid = ?'),
    insertText: db.prepare<[number, string, string, string, string, string, string, string, string]>(
      `INSERT INTO chart_fts (rowid, name, repository, description, keywords, maintainers, annotations, app_version, readme)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    chartRepositories: db.prepare<[], { repo_id: number }>('SELECT DISTINCT repo_id FROM charts'),
    clearSearch: db.prepare<[]>('DELETE FROM chart_search'),
    clearText: db.prepare<[]>('DELETE FROM chart_fts'),
    count: db.prepare<[], number>('SELECT COUNT(*) FROM chart_search').pluck(),
    needsBuild: db.prepare<[], number>('SELECT EXISTS (SELECT 1 FROM charts) AND NOT EXISTS (SELECT 1 FROM chart_search)').pluck(),
    matchBySql: pageStatements('match', sqlChoice),
    matchByCallback: pageStatements('match', callbackChoice),
    browseBySql: pageStatements('browse', sqlChoice),
    browseByCallback: pageStatements('browse', callbackChoice),
    // The chosen version is picked out of the JSON list by SQLite; the whole list only when asked for.
    doc: db.prepare<[string, number, number, number], DocRow>(
      `SELECT s.repository, d.namespace, s.deprecated, d.updated_at, d.summary,
         (SELECT value FROM json_each(d.versions) WHERE json_extract(value, '$.version') = ?) AS version,
         CASE WHEN ? = 1 THEN d.versions END AS versions,
         CASE WHEN ? = 1 THEN (SELECT readme FROM chart_files f WHERE f.manifest_id = d.doc_manifest_id) END AS readme
       FROM chart_search s JOIN chart_search_docs d ON d.repo_id = s.repo_id WHERE s.repo_id = ?`,
    ),
    nameKeys: db.prepare<[], string>('SELECT DISTINCT name_key FROM chart_search').pluck(),
    merge: db.prepare<[]>("INSERT INTO chart_fts (chart_fts, rank) VALUES ('merge', 256)"),
    optimize: db.prepare<[]>("INSERT INTO chart_fts (chart_fts) VALUES ('optimize')"),
    totalChanges: db.prepare<[], number>('SELECT total_changes()').pluck(),
  };

  function removeDocument(repoId: number): true {
    q.deleteSearch.run(repoId);
    q.deleteText.run(repoId);
    return true;
  }

  /** Brings a repository's search document in line with its visible chart versions; true when the full-text index changed. */
  function refresh(repoId: number): boolean {
    if (!q.hasCharts.get(repoId)) return false;
    const rows = sortNewestFirst(q.visibleVersions.all(repoId));
    const doc = latestOf(rows);
    if (!doc) return removeDocument(repoId);
    const versions: SearchVersion[] = rows.map((row) => ({
      version: row.version,
      ...(row.app_version !== null ? { appVersion: row.app_version } : {}),
      createdAt: row.created_at,
      chartDigest: row.chart_digest,
      deprecated: row.deprecated === 1,
    }));
    const latest = (rows[0] as VersionRow).version;
    const latestStable = rows.find((row) => !isPrerelease(row.version))?.version ?? null;
    const updatedAt = Math.max(...rows.map((row) => row.created_at));
    const versionList = rows.map((row) => row.version).join('\n');
    const majors = entryList([...new Set(rows.map((row) => String(semver.major(row.version))))]);
    // Pushing an older version leaves the indexed text alone: only the version list changes.
    const indexed = q.indexedDocument.get(repoId);
    if (indexed?.doc_manifest_id === doc.manifest_id) {
      q.updateVersions.run(latest, latestStable, versionList, majors, repoId);
      q.updateDocVersions.run(updatedAt, JSON.stringify(versions), repoId);
      return false;
    }
    const row = q.document.get(doc.manifest_id) as DocumentRow;
    const meta = JSON.parse(row.metadata) as ChartMetadata;
    const maintainers = (meta.maintainers ?? []).flatMap((m) => [m.name, m.email]);
    const text = [
      meta.name,
      row.repository,
      meta.description,
      (meta.keywords ?? []).join(' '),
      maintainers.filter(Boolean).join(' '),
      Object.entries(meta.annotations ?? {}).flat().join(' '),
      meta.appVersion,
      row.readme?.slice(0, indexedReadmeChars),
    ].map((field) => field ?? '') as [string, string, string, string, string, string, string, string];
    const textHash = createHash('sha256').update(JSON.stringify(text)).digest('base64');
    const summary: Summary = {
      name: meta.name,
      ...(meta.description !== undefined ? { description: meta.description } : {}),
      ...(meta.keywords !== undefined ? { keywords: meta.keywords } : {}),
      ...(meta.icon !== undefined ? { icon: meta.icon } : {}),
      ...(meta.home !== undefined ? { home: meta.home } : {}),
    };
    q.upsertSearch.run({
      repoId,
      repository: row.repository,
      nameKey: meta.name.toLowerCase(),
      latest,
      latestStable,
      deprecated: meta.deprecated ? 1 : 0,
      keywords: entryList(meta.keywords ?? []),
      maintainers: entryList(maintainers),
      versionList,
      majors,
    });
    q.upsertDoc.run({
      repoId,
      namespace: row.namespace,
      docManifestId: doc.manifest_id,
      textHash,
      updatedAt,
      summary: JSON.stringify(summary),
      versions: JSON.stringify(versions),
    });
    // Most new versions change a chart's text little or not at all; rewriting the full-text row is the costly part.
    if (indexed?.text_hash === textHash) return false;
    q.deleteText.run(repoId);
    q.insertText.run(repoId, ...text);
    return true;
  }

  function clear(): void {
    q.clearSearch.run();
    q.clearText.run();
  }

  function rebuild(): number {
    clear();
    for (const { repo_id } of q.chartRepositories.all()) refresh(repo_id);
    q.optimize.run();
    return q.count.get() as number;
  }

  function toHit(repoId: number, version: string, query: ChartSearchQuery): ChartSearchHit {
    const row = q.doc.get(version, query.withVersions ? 1 : 0, query.withReadme ? 1 : 0, repoId) as DocRow;
    const summary = JSON.parse(row.summary) as Summary;
    return {
      repository: row.repository,
      namespace: row.namespace,
      name: summary.name,
      ...(summary.description !== undefined ? { description: summary.description } : {}),
      keywords: summary.keywords ?? [],
      ...(summary.icon !== undefined ? { icon: summary.icon } : {}),
      ...(summary.home !== undefined ? { home: summary.home } : {}),
      deprecated: row.deprecated === 1,
      updatedAt: row.updated_at,
      version: JSON.parse(row.version) as SearchVersion,
      ...(row.versions !== null ? { versions: JSON.parse(row.versions) as SearchVersion[] } : {}),
      ...(row.readme !== null ? { readme: row.readme } : {}),
    };
  }

  function search(query: ChartSearchQuery): ChartSearchPage {
    const match = query.terms.length > 0 ? matchExpression(query.terms) : undefined;
    const bindings: Bindings = {
      prefix: query.repositoryPrefix ?? null,
      keyword: query.keyword ?? null,
      maintainer: query.maintainer ?? null,
      deprecated: query.includeDeprecated ? 1 : 0,
      prerelease: query.includePrerelease ? 1 : 0,
      majors: query.majors ? JSON.stringify(query.majors.map(String)) : null,
      ...(match !== undefined ? { match, nameKey: query.nameKey } : {}),
    };
    const statements =
      match !== undefined ? (query.choose ? q.matchByCallback : q.matchBySql) : query.choose ? q.browseByCallback : q.browseBySql;
    activeChoice = query.choose;
    try {
      const rows = statements.page.all({ ...bindings, limit: query.limit, offset: query.offset });
      // A short first page is all there is; otherwise count (unless the page carries the count).
      const total =
        rows[0]?.total ?? (query.offset === 0 && rows.length < query.limit ? rows.length : (statements.count.get(bindings) as number));
      return { total, hits: rows.map((row) => toHit(row.repo_id, row.chosen, query)) };
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
