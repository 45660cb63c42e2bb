import { createHash } from 'node:crypto';
import semver from 'semver';
import type { ChartMetadata } from '../../charts/chart-yaml.js';
import { isPrerelease, latestOf, sortNewestFirst } from '../../charts/versions.js';
import { summaryJson, toSearchHit } from '../search-hits.js';
import type { ChartSearchHit, ChartSearchPage, ChartSearchQuery, SearchTerm, SearchVersion } from '../metadata.js';
import type { Sql } from './connection.js';

interface VersionRow {
  manifest_id: number;
  version: string;
  app_version: string | null;
  created_at: number;
  chart_digest: string;
  deprecated: boolean;
}

interface DocumentRow {
  repository: string;
  namespace: string;
  metadata: string;
  readme: string | null;
}

interface CandidateRow {
  repo_id: number;
  repository: string;
  latest: string;
  latest_stable: string | null;
  version_list: string[];
  chosen: string | null;
  total: number;
}

interface HitRow {
  repo_id: number;
  repository: string;
  namespace: string;
  deprecated: boolean;
  updated_at: number;
  summary: string;
  versions: string;
  readme: string | null;
}

// How much of a README is indexed (as in the embedded store): its opening, not its parameter tables.
const indexedReadmeChars = 16 * 1024;

// ts_rank's weights for the D, C, B and A words: name (A) far above keywords and description (B),
// repository and maintainers (C), annotations, app version and README (D).
const rankWeights = '{0.05, 0.25, 0.5, 1.0}';

/**
 * The words of a text as the index keeps them: runs of letters and digits, lower-cased, accents
 * folded (as SQLite's unicode61 tokenizer with remove_diacritics does), one space between.
 */
export function indexWords(text: string | undefined): string {
  if (!text) return '';
  return (text.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).join(' ');
}

/**
 * A tsquery in which every word is a quoted lexeme: nothing the user typed is read as syntax.
 * Undefined when a term has no word left to match (punctuation only): nothing can match then.
 */
function tsquery(terms: SearchTerm[]): string | undefined {
  const groups = terms.map((term) =>
    term.words
      .flatMap((word) => indexWords(word).split(' ').filter(Boolean))
      .map((word) => `'${word.replace(/'/g, "''")}'${term.prefix ? ':*' : ''}`),
  );
  if (groups.some((lexemes) => lexemes.length === 0)) return undefined;
  return groups.map((lexemes) => `(${lexemes.join(' | ')})`).join(' & ');
}

const visibleVersions = `SELECT c.manifest_id, c.version, c.app_version, c.created_at, c.chart_digest, c.deprecated FROM charts c
  JOIN tags t ON t.manifest_id = c.manifest_id AND t.name = c.version_tag WHERE c.repo_id = $1`;

/** Brings a repository's search row in line with its visible chart versions; runs inside the transaction that changed them. */
export async function refreshSearch(tx: Sql, repoId: number): Promise<void> {
  if (!(await tx.one('SELECT 1 FROM charts WHERE repo_id = $1 LIMIT 1', [repoId]))) return;
  const rows = sortNewestFirst(await tx.rows<VersionRow>(visibleVersions, [repoId]));
  const doc = latestOf(rows);
  if (!doc) {
    await tx.run('DELETE FROM chart_search WHERE repo_id = $1', [repoId]);
    return;
  }
  const versions: SearchVersion[] = rows.map((row) => ({
    version: row.version,
    ...(row.app_version !== null ? { appVersion: row.app_version } : {}),
    createdAt: row.created_at,
    chartDigest: row.chart_digest,
    deprecated: row.deprecated,
  }));
  const lists = {
    latest: (rows[0] as VersionRow).version,
    latestStable: rows.find((row) => !isPrerelease(row.version))?.version ?? null,
    updatedAt: Math.max(...rows.map((row) => row.created_at)),
    versionList: rows.map((row) => row.version),
    majors: [...new Set(rows.map((row) => semver.major(row.version)))],
    versions: JSON.stringify(versions),
  };
  const listValues = [repoId, lists.latest, lists.latestStable, lists.versionList, lists.majors, lists.updatedAt, lists.versions];
  const indexed = await tx.one<{ doc_manifest_id: number; text_hash: string }>('SELECT doc_manifest_id, text_hash FROM chart_search WHERE repo_id = $1', [repoId]);
  // Pushing an older version leaves the indexed text alone: only the version lists change.
  if (indexed?.doc_manifest_id === doc.manifest_id) {
    await tx.run(
      'UPDATE chart_search SET latest = $2, latest_stable = $3, version_list = $4, majors = $5, updated_at = $6, versions = $7 WHERE repo_id = $1',
      listValues,
    );
    return;
  }
  const row = (await tx.one<DocumentRow>(
    `SELECT r.name AS repository, c.namespace, c.metadata, f.readme FROM charts c JOIN repositories r ON r.id = c.repo_id
     LEFT JOIN chart_files f ON f.manifest_id = c.manifest_id WHERE c.manifest_id = $1`,
    [doc.manifest_id],
  )) as DocumentRow;
  const meta = JSON.parse(row.metadata) as ChartMetadata;
  const maintainers = (meta.maintainers ?? []).flatMap((m) => [m.name, m.email]).filter((entry): entry is string => Boolean(entry));
  const weighted = [
    indexWords(meta.name),
    indexWords([(meta.keywords ?? []).join(' '), meta.description].join(' ')),
    indexWords([row.repository, maintainers.join(' ')].join(' ')),
    indexWords([Object.entries(meta.annotations ?? {}).flat().join(' '), meta.appVersion, row.readme?.slice(0, indexedReadmeChars)].join(' ')),
  ];
  const textHash = createHash('sha256').update(JSON.stringify(weighted)).digest('base64');
  const summary = summaryJson(meta);
  const lower = (entries: string[]): string[] => entries.map((entry) => entry.toLowerCase());
  const chartValues = [
    ...listValues,
    row.repository,
    row.namespace,
    meta.name.toLowerCase(),
    meta.deprecated === true,
    lower(meta.keywords ?? []),
    lower(maintainers),
    doc.manifest_id,
    textHash,
    summary,
  ];
  const chartColumns = `repo_id, latest, latest_stable, version_list, majors, updated_at, versions,
    repository, namespace, name_key, deprecated, keywords, maintainers, doc_manifest_id, text_hash, summary`;
  const updates = chartColumns
    .split(',')
    .map((column) => column.trim())
    .filter((column) => column !== 'repo_id')
    .map((column) => `${column} = excluded.${column}`);
  // Most new versions change a chart's text little or not at all; rewriting the words is the costly part.
  const sameText = indexed?.text_hash === textHash;
  await tx.run(
    `INSERT INTO chart_search (${chartColumns}, document)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
       setweight(to_tsvector('simple', $17), 'A') || setweight(to_tsvector('simple', $18), 'B')
       || setweight(to_tsvector('simple', $19), 'C') || setweight(to_tsvector('simple', $20), 'D'))
     ON CONFLICT (repo_id) DO UPDATE SET ${updates.join(', ')}${sameText ? '' : ', document = excluded.document'}`,
    [...chartValues, ...weighted],
  );
}

/** Rebuilds every chart's search row; returns how many there are. */
export async function rebuildSearch(tx: Sql): Promise<number> {
  await tx.run('DELETE FROM chart_search');
  for (const { repo_id } of await tx.rows<{ repo_id: number }>('SELECT DISTINCT repo_id FROM charts ORDER BY repo_id')) await refreshSearch(tx, repo_id);
  return Number((await tx.one<{ count: number }>('SELECT COUNT(*)::int AS count FROM chart_search'))?.count ?? 0);
}

/** Charts whose text matches, ranked (exact name, then names starting with the query, then ts_rank), filtered and paged. */
export async function searchCharts(sql: Sql, query: ChartSearchQuery): Promise<ChartSearchPage> {
  const values: unknown[] = [];
  const bind = (value: unknown): string => {
    values.push(value);
    return `$${values.length}`;
  };
  const conditions: string[] = [];
  let order = 's.name_key, s.repository';
  if (query.terms.length > 0) {
    const expression = tsquery(query.terms);
    if (expression === undefined) return { total: 0, hits: [] };
    const match = bind(expression);
    const nameKey = bind(query.nameKey);
    conditions.push(`s.document @@ to_tsquery('simple', ${match})`);
    order = `CASE WHEN s.name_key = ${nameKey} THEN 0 WHEN starts_with(s.name_key, ${nameKey}) THEN 1 ELSE 2 END,
      ts_rank('${rankWeights}', s.document, to_tsquery('simple', ${match})) DESC, s.repository`;
  }
  if (query.repositoryPrefix !== undefined) conditions.push(`starts_with(s.repository, ${bind(query.repositoryPrefix)})`);
  if (query.keyword !== undefined) conditions.push(`${bind(query.keyword)} = ANY (s.keywords)`);
  if (query.maintainer !== undefined) conditions.push(`${bind(query.maintainer)} = ANY (s.maintainers)`);
  if (!query.includeDeprecated) conditions.push('NOT s.deprecated');
  if (query.majors !== undefined) conditions.push(`s.majors && ${bind(query.majors)}::int[]`);
  const chosen = query.choose ? 'NULL' : query.includePrerelease ? 's.latest' : 's.latest_stable';
  if (!query.choose) conditions.push(`${chosen} IS NOT NULL`);
  const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
  const select = `SELECT s.repo_id, s.repository, s.latest, s.latest_stable, s.version_list, ${chosen} AS chosen, COUNT(*) OVER ()::int AS total
    FROM chart_search s ${where} ORDER BY ${order}`;

  let page: { repoId: number; version: string }[];
  let total: number;
  if (query.choose) {
    // Rules only code can apply (semver ranges, access): every match is read, then picked and paged here.
    const choose = query.choose;
    const picked = (await sql.rows<CandidateRow>(select, values)).flatMap((row) => {
      const version = choose({
        repository: row.repository,
        latest: row.latest,
        latestStable: row.latest_stable ?? undefined,
        versions: row.version_list,
      });
      return version === undefined ? [] : [{ repoId: row.repo_id, version }];
    });
    total = picked.length;
    page = picked.slice(query.offset, query.offset + query.limit);
  } else {
    const all = [...values];
    const rows = await sql.rows<CandidateRow>(`${select} LIMIT ${bind(query.limit)} OFFSET ${bind(query.offset)}`, values);
    // Past the last page the window count is not there to read: count on its own.
    total = rows[0]?.total ?? (query.offset > 0 ? ((await sql.one<{ total: number }>(`SELECT COUNT(*)::int AS total FROM (${select}) matches`, all))?.total ?? 0) : 0);
    page = rows.map((row) => ({ repoId: row.repo_id, version: row.chosen as string }));
  }
  return { total, hits: await hitsOf(sql, page, query) };
}

async function hitsOf(sql: Sql, page: { repoId: number; version: string }[], query: ChartSearchQuery): Promise<ChartSearchHit[]> {
  if (page.length === 0) return [];
  const rows = await sql.rows<HitRow>(
    `SELECT s.repo_id, s.repository, s.namespace, s.deprecated, s.updated_at, s.summary, s.versions,
       CASE WHEN $2 THEN f.readme END AS readme
     FROM chart_search s LEFT JOIN chart_files f ON f.manifest_id = s.doc_manifest_id WHERE s.repo_id = ANY ($1)`,
    [page.map((entry) => entry.repoId), query.withReadme],
  );
  const byId = new Map(rows.map((row) => [row.repo_id, row]));
  return page.flatMap(({ repoId, version }) => {
    const row = byId.get(repoId);
    if (!row) return [];
    const versions = JSON.parse(row.versions) as SearchVersion[];
    const chosen = versions.find((entry) => entry.version === version) as SearchVersion;
    return [toSearchHit({ ...row, updatedAt: row.updated_at }, chosen, query.withVersions ? versions : undefined)];
  });
}
