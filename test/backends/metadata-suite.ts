import { createHash, randomBytes } from 'node:crypto';
import type { Test } from 'tap';
import type { ChartMetadata } from '../../src/charts/chart-yaml.js';
import {
  BlobVanishedError,
  type ChartRecord,
  type ChartSearchQuery,
  type ManifestRef,
  type Metadata,
  type NewManifest,
} from '../../src/db/metadata.js';

// What every metadata store must do, whatever keeps the rows: the same suite runs against the
// embedded SQLite store and against PostgreSQL (like distribution's storage driver test suite).
// Each test gets an empty store; `another` opens the same store as a second process would.

export interface MetadataStores {
  /** An empty store, closed when the test ends. */
  metadata: Metadata;
  /** The same store opened again, as another process (a replica, `chartroom gc`) would; closed when the test ends. */
  another(): Promise<Metadata>;
  /** Whether `runAlone` keeps a second process out (PostgreSQL: yes; SQLite, where that is safe anyway: no). */
  exclusiveAcrossProcesses: boolean;
}

export type OpenStores = (t: Test) => Promise<MetadataStores>;

const sha = (text: string | Buffer): string => `sha256:${createHash('sha256').update(text).digest('hex')}`;
const there = (): boolean => true;
const gone = (): boolean => false;
let clock = Date.now();
/** Strictly increasing times, so grace periods and orderings in the tests never tie. */
const tick = (): number => (clock = Math.max(clock + 1, Date.now()));

/** A blob of some random bytes, recorded and linked into `repository`. */
async function blob(metadata: Metadata, repository: string, size = 100): Promise<{ digest: string; size: number }> {
  const recorded = { digest: sha(randomBytes(16)), size };
  await metadata.linkNewBlob(repository, recorded, there);
  return recorded;
}

interface ManifestOptions {
  tag?: string;
  refs?: ManifestRef[];
  subject?: string;
  artifactType?: string;
  annotations?: Record<string, string>;
  chart?: ChartRecord;
  createdAt?: number;
  chartVersionsImmutable?: boolean;
}

function manifest(repository: string, options: ManifestOptions = {}): NewManifest {
  const content = Buffer.from(JSON.stringify({ schemaVersion: 2, refs: options.refs ?? [], nonce: randomBytes(8).toString('hex') }));
  return {
    repository,
    chart: options.chart,
    chartVersionsImmutable: options.chartVersionsImmutable ?? false,
    digest: sha(content),
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    artifactType: options.artifactType,
    subject: options.subject,
    annotations: options.annotations,
    content,
    refs: options.refs ?? [],
    tag: options.tag,
    createdAt: options.createdAt ?? tick(),
  };
}

function chart(repository: string, version: string, meta: Partial<ChartMetadata> = {}, files: { readme?: string; values?: string } = {}): ChartRecord {
  const name = repository.split('/').pop() as string;
  return {
    namespace: repository.split('/').slice(0, -1).join('/'),
    name,
    version,
    versionTag: version.replace('+', '_'),
    metadata: { apiVersion: 'v2', name, version, ...meta },
    chartDigest: sha(`${repository}:${version}:${randomBytes(4).toString('hex')}`),
    chartSize: 1234,
    provDigest: undefined,
    readme: files.readme,
    values: files.values,
    valuesSchema: undefined,
    createdAt: tick(),
  };
}

/** Pushes a chart version the way a chart push does: its blobs, then the manifest tagged with the version. */
async function pushChart(metadata: Metadata, repository: string, version: string, meta: Partial<ChartMetadata> = {}, files: { readme?: string } = {}) {
  const config = await blob(metadata, repository);
  const layer = await blob(metadata, repository);
  const record = chart(repository, version, meta, files);
  const m = manifest(repository, { tag: record.versionTag, chart: record, refs: [{ kind: 'blob', digest: config.digest }, { kind: 'blob', digest: layer.digest }] });
  const result = await metadata.putManifest(m);
  if (!result.ok) throw new Error(`push of ${repository}:${version} refused: ${JSON.stringify(result)}`);
  return { manifest: m, record, blobs: [config, layer] };
}

function query(overrides: Partial<ChartSearchQuery> = {}): ChartSearchQuery {
  return {
    terms: [],
    nameKey: '',
    includeDeprecated: false,
    includePrerelease: false,
    offset: 0,
    limit: 20,
    withReadme: false,
    withVersions: false,
    ...overrides,
  };
}

const words = (...list: string[]) => list.map((word) => ({ words: [word], prefix: true }));

export function metadataSuite(t: Test, open: OpenStores): void {
  t.test('repositories: listed in byte order once they hold a manifest, paged', async (t) => {
    const { metadata } = await open(t);
    for (const name of ['team/b', 'team/a', 'Team/z', 'team/a-b']) await metadata.putManifest(manifest(name, { tag: 'v1' }));
    await blob(metadata, 'team/only-blobs');
    t.same(await metadata.listRepositories({}), ['Team/z', 'team/a', 'team/a-b', 'team/b'], 'upper case first, as bytes sort');
    t.same(await metadata.listRepositories({ limit: 2 }), ['Team/z', 'team/a']);
    t.same(await metadata.listRepositories({ after: 'team/a', limit: 5 }), ['team/a-b', 'team/b']);
    t.ok(await metadata.repositoryExists('team/only-blobs'), 'a repository with only blobs exists');
    t.notOk(await metadata.repositoryExists('team/never'));
  });

  t.test('blobs: linked per repository, mounted, unlinked; a vanished stored copy records nothing', async (t) => {
    const { metadata } = await open(t);
    const b = await blob(metadata, 'team/a', 321);
    t.same(await metadata.linkedBlob('team/a', b.digest), { size: 321 });
    t.equal(await metadata.linkedBlob('team/b', b.digest), undefined, 'another repository does not see it');
    t.ok(await metadata.hasBlob(b.digest));
    t.notOk(await metadata.mountBlob('team/b', b.digest, 'team/c'), 'no mount from a repository that lacks it');
    t.ok(await metadata.mountBlob('team/b', b.digest, 'team/a'));
    t.same(await metadata.linkedBlob('team/b', b.digest), { size: 321 });
    t.ok(await metadata.unlinkBlob('team/b', b.digest));
    t.notOk(await metadata.unlinkBlob('team/b', b.digest), 'twice is nothing');
    t.equal(await metadata.linkedBlob('team/b', b.digest), undefined);

    const lost = { digest: sha('lost'), size: 4 };
    await t.rejects(metadata.linkNewBlob('team/a', lost, gone), BlobVanishedError);
    t.notOk(await metadata.hasBlob(lost.digest), 'nothing recorded');
    t.equal(await metadata.linkedBlob('team/a', lost.digest), undefined);
    const asynchronous = { digest: sha('async'), size: 5 };
    await metadata
      .linkNewBlob('team/a', asynchronous, async () => true)
      .then(async () => t.same(await metadata.linkedBlob('team/a', asynchronous.digest), { size: 5 }, 'an asynchronous check works where the store can wait for it'))
      .catch((err: Error) => t.match(err.name, 'SynchronousBlobStoreRequired', 'or the store says it cannot wait inside its transaction'));
  });

  t.test('uploads: a session advances only from where it is, keeps the store state, ends in a recorded blob', async (t) => {
    const { metadata } = await open(t);
    const now = tick();
    await metadata.createUpload({ id: 'u1', repository: 'team/a', offset: 0, startedAt: now, updatedAt: now });
    await metadata.createUpload({ id: 'u2', repository: 'team/a', offset: 0, startedAt: now - 10_000, updatedAt: now - 10_000 });
    t.ok(await metadata.advanceUpload('u1', 0, 100, '{"parts":1}', now + 1));
    t.notOk(await metadata.advanceUpload('u1', 0, 200, '{"parts":2}', now + 2), 'a second writer from the old offset is refused');
    t.notOk(await metadata.advanceUpload('missing', 0, 10, undefined, now), 'an unknown session is refused');
    t.match(await metadata.getUpload('u1'), { id: 'u1', repository: 'team/a', offset: 100, state: '{"parts":1}', updatedAt: now + 1 });
    t.same([...(await metadata.uploadIds())].sort(), ['u1', 'u2']);
    t.same((await metadata.staleUploads(now - 1)).map((u) => u.id), ['u2']);
    const digest = sha('upload');
    await metadata.completeUpload('u1', 'team/a', { digest, size: 100 }, there);
    t.equal(await metadata.getUpload('u1'), undefined, 'the session is gone');
    t.same(await metadata.linkedBlob('team/a', digest), { size: 100 });
    await t.rejects(metadata.completeUpload('u2', 'team/a', { digest: sha('other'), size: 1 }, gone), BlobVanishedError);
    t.ok(await metadata.getUpload('u2'), 'a refused completion keeps the session');
    t.ok(await metadata.deleteUpload('u2'));
    t.notOk(await metadata.deleteUpload('u2'));
  });

  t.test('manifests: references checked, bytes kept, tags moved and listed in byte order, deletes', async (t) => {
    const { metadata } = await open(t);
    const layer = await blob(metadata, 'team/app');
    const absent = sha('absent');
    const refused = await metadata.putManifest(manifest('team/app', { tag: 'v1', refs: [{ kind: 'blob', digest: layer.digest }, { kind: 'blob', digest: absent }, { kind: 'manifest', digest: absent }] }));
    t.same(refused, { ok: false, reason: 'missing', missing: [{ kind: 'blob', digest: absent }, { kind: 'manifest', digest: absent }] });
    t.same(await metadata.listTags('team/app', {}), [], 'nothing stored');

    const first = manifest('team/app', { tag: 'v1', refs: [{ kind: 'blob', digest: layer.digest }] });
    t.same(await metadata.putManifest(first), { ok: true });
    t.same(await metadata.putManifest(first), { ok: true }, 'the same again is fine');
    const byTag = await metadata.getManifest('team/app', { tag: 'v1' });
    t.ok(byTag?.content.equals(first.content), 'the exact bytes');
    t.match(byTag, { digest: first.digest, mediaType: first.mediaType, size: first.content.length });
    t.equal((await metadata.getManifest('team/app', { digest: first.digest }))?.digest, first.digest);
    t.equal(await metadata.getManifest('team/other', { digest: first.digest }), undefined, 'only in its repository');

    const second = manifest('team/app', { tag: 'v1', refs: [{ kind: 'blob', digest: layer.digest }] });
    await metadata.putManifest(second);
    t.equal((await metadata.getManifest('team/app', { tag: 'v1' }))?.digest, second.digest, 'the tag moved');
    t.ok(await metadata.getManifest('team/app', { digest: first.digest }), 'the old manifest stays by digest');

    const index = manifest('team/app', { tag: 'multi', refs: [{ kind: 'manifest', digest: first.digest }, { kind: 'manifest', digest: second.digest }] });
    t.same(await metadata.putManifest(index), { ok: true }, 'an index of manifests in the repository');
    for (const tag of ['B', 'a', '_x', 'a0', '1.0.0']) await metadata.putManifest({ ...second, tag, createdAt: tick() });
    t.same(await metadata.listTags('team/app', {}), ['1.0.0', 'B', '_x', 'a', 'a0', 'multi', 'v1']);
    t.same(await metadata.listTags('team/app', { after: 'B', limit: 2 }), ['_x', 'a']);
    t.equal(await metadata.listTags('team/unknown', {}), undefined, 'an unknown repository is undefined, not empty');

    t.ok(await metadata.deleteTag('team/app', 'a'));
    t.notOk(await metadata.deleteTag('team/app', 'a'));
    t.ok(await metadata.deleteManifest('team/app', second.digest));
    t.same(await metadata.listTags('team/app', {}), ['multi'], "a manifest's tags go with it");
    t.notOk(await metadata.deleteManifest('team/app', second.digest));
    t.notOk(await metadata.deleteManifest('team/nowhere', second.digest));
  });

  t.test('referrers: by subject, filtered by artifact type, in push order', async (t) => {
    const { metadata } = await open(t);
    const subject = manifest('team/app', { tag: 'v1' });
    await metadata.putManifest(subject);
    const sbom = manifest('team/app', { subject: subject.digest, artifactType: 'application/spdx+json', annotations: { kind: 'sbom' } });
    const signature = manifest('team/app', { subject: subject.digest, artifactType: 'application/vnd.dev.cosign' });
    await metadata.putManifest(sbom);
    await metadata.putManifest(signature);
    const all = await metadata.listReferrers('team/app', subject.digest);
    t.same(all.map((d) => d.digest), [sbom.digest, signature.digest]);
    t.same(all[0], { mediaType: sbom.mediaType, digest: sbom.digest, size: sbom.content.length, artifactType: 'application/spdx+json', annotations: { kind: 'sbom' } });
    t.same((await metadata.listReferrers('team/app', subject.digest, 'application/vnd.dev.cosign')).map((d) => d.digest), [signature.digest]);
    t.same(await metadata.listReferrers('team/other', subject.digest), []);
  });

  t.test('charts: a version is visible while its version tag points at it; pages by repository', async (t) => {
    const { metadata } = await open(t);
    const pushed = await pushChart(metadata, 'team/app', '1.0.0', { appVersion: '2.1', description: 'An app' }, { readme: '# App' });
    await pushChart(metadata, 'team/app', '1.1.0-rc.1');
    await pushChart(metadata, 'team/db', '3.0.0');
    await pushChart(metadata, 'other/app', '1.0.0');
    const one = await metadata.getChartVersion('team', 'app', '1.0.0');
    t.match(one, { repository: 'team/app', manifestDigest: pushed.manifest.digest, chartDigest: pushed.record.chartDigest, readme: '# App', metadata: { appVersion: '2.1' } });
    t.same((await metadata.chartOfManifest('team/app', pushed.manifest.digest))?.version, '1.0.0');
    t.same((await metadata.listChartVersions('team')).map((v) => `${v.repository} ${v.version}`).sort(), ['team/app 1.0.0', 'team/app 1.1.0-rc.1', 'team/db 3.0.0']);
    t.same((await metadata.listChartVersions('team', 'db')).map((v) => v.version), ['3.0.0']);
    t.equal((await metadata.listChartVersions('team'))[0]?.readme, undefined, 'lists leave the README out');
    t.same((await metadata.listRepositoryCharts('team/app')).map((v) => v.version).sort(), ['1.0.0', '1.1.0-rc.1']);
    t.same(await metadata.listChartNamespaces(), [{ namespace: 'other', charts: 1 }, { namespace: 'team', charts: 2 }]);

    const seen: string[] = [];
    let cursor;
    do {
      const page = await metadata.listChartVersionPage('team', cursor, 2);
      seen.push(...page.versions.map((v) => `${v.repository} ${v.version}`));
      cursor = page.next;
    } while (cursor);
    t.same(seen.sort(), ['team/app 1.0.0', 'team/app 1.1.0-rc.1', 'team/db 3.0.0'], 'pages see every version once');

    // The version tag moved to a manifest without that chart: the version is no longer visible.
    await metadata.putManifest(manifest('team/db', { tag: '3.0.0' }));
    t.equal(await metadata.getChartVersion('team', 'db', '3.0.0'), undefined);
    t.same(await metadata.listChartNamespaces(), [{ namespace: 'other', charts: 1 }, { namespace: 'team', charts: 1 }]);
  });

  t.test('charts: immutable versions refuse a different manifest under the version tag', async (t) => {
    const { metadata } = await open(t);
    const first = await pushChart(metadata, 'team/app', '1.0.0');
    const again = { ...first.manifest, chartVersionsImmutable: true, createdAt: tick() };
    t.same(await metadata.putManifest(again), { ok: true }, 'the same manifest again is fine');
    const other = manifest('team/app', { tag: '1.0.0', chart: chart('team/app', '1.0.0'), chartVersionsImmutable: true, refs: first.manifest.refs });
    t.same(await metadata.putManifest(other), { ok: false, reason: 'immutable', existing: first.manifest.digest });
    t.equal((await metadata.getManifest('team/app', { tag: '1.0.0' }))?.digest, first.manifest.digest);
  });

  t.test('search: follows pushes and deletes; ranks the exact name, then names starting with the word', async (t) => {
    const { metadata } = await open(t);
    await pushChart(metadata, 'team/nginx', '1.0.0', { description: 'The web server', keywords: ['web', 'proxy'], appVersion: '1.25.3' }, { readme: 'Install me' });
    await pushChart(metadata, 'team/nginx-ingress', '2.0.0', { description: 'Routes to nginx', keywords: ['ingress'] });
    await pushChart(metadata, 'team/proxy', '0.1.0', { description: 'Talks to nginx servers', maintainers: [{ name: 'Ada', email: 'ada@example.com' }] });
    await pushChart(metadata, 'other/cache', '1.0.0', { description: 'Café crème', deprecated: true });

    const nginx = await metadata.searchCharts(query({ terms: words('nginx'), nameKey: 'nginx' }));
    t.same(nginx.hits.map((h) => h.repository), ['team/nginx', 'team/nginx-ingress', 'team/proxy'], 'exact name, then prefix, then the rest');
    t.equal(nginx.total, 3);
    t.match(nginx.hits[0], { name: 'nginx', namespace: 'team', description: 'The web server', keywords: ['web', 'proxy'], version: { version: '1.0.0', appVersion: '1.25.3' } });
    t.same((await metadata.searchCharts(query({ terms: words('web', 'server') }))).hits.map((h) => h.repository), ['team/nginx'], 'every word must match');
    t.same((await metadata.searchCharts(query({ terms: words('ngi') }))).hits.map((h) => h.repository).sort(), ['team/nginx', 'team/nginx-ingress', 'team/proxy'], 'words match as prefixes');
    t.same((await metadata.searchCharts(query({ terms: words('1', '25') }))).hits.map((h) => h.repository), ['team/nginx'], 'the app version is searchable');
    t.same((await metadata.searchCharts(query({ terms: words('install') }))).hits.map((h) => h.repository), ['team/nginx'], 'the README is searchable');
    t.same((await metadata.searchCharts(query({ terms: words('ada') }))).hits.map((h) => h.repository), ['team/proxy'], 'maintainers are searchable');
    t.same((await metadata.searchCharts(query({ terms: words('cafe'), includeDeprecated: true }))).hits.map((h) => h.repository), ['other/cache'], 'accents fold');
    t.same((await metadata.searchCharts(query({ terms: words('cafe') }))).total, 0, 'deprecated charts only when asked for');
    for (const hostile of ['"', 'NEAR(a b)', '*', '(', "'", 'a:*', '&|!', 'x'.repeat(10_000)]) {
      const result = await metadata.searchCharts(query({ terms: [{ words: [hostile], prefix: true }] }));
      t.ok(result.total >= 0, `no error for ${JSON.stringify(hostile.slice(0, 20))}`);
    }

    const readme = await metadata.searchCharts(query({ terms: words('nginx'), nameKey: 'nginx', withReadme: true, withVersions: true, limit: 1 }));
    t.equal(readme.hits[0]?.readme, 'Install me');
    t.same(readme.hits[0]?.versions?.map((v) => v.version), ['1.0.0']);
    t.equal(readme.total, 3, 'the total counts every page');
    const second = await metadata.searchCharts(query({ terms: words('nginx'), nameKey: 'nginx', offset: 1, limit: 1 }));
    t.same(second.hits.map((h) => h.repository), ['team/nginx-ingress']);
    t.equal(second.total, 3);
    const past = await metadata.searchCharts(query({ terms: words('nginx'), nameKey: 'nginx', offset: 10, limit: 5 }));
    t.same([past.hits.length, past.total], [0, 3], 'past the last page: no hits, the same total');

    await metadata.deleteTag('team/nginx', '1.0.0');
    t.same((await metadata.searchCharts(query({ terms: words('nginx'), nameKey: 'nginx' }))).hits.map((h) => h.repository), ['team/nginx-ingress', 'team/proxy'], 'a chart without visible versions leaves the index');
    t.same((await metadata.chartNames()).sort(), ['cache', 'nginx-ingress', 'proxy']);
  });

  t.test('search: filters, the latest stable version, and choices made by code', async (t) => {
    const { metadata } = await open(t);
    await pushChart(metadata, 'team/api', '1.0.0', { keywords: ['Backend'], maintainers: [{ name: 'Bo', email: 'bo@example.com' }] });
    await pushChart(metadata, 'team/api', '2.0.0-beta.1', { keywords: ['Backend'] });
    await pushChart(metadata, 'lab/api', '3.1.0', { keywords: ['backend'] });
    await pushChart(metadata, 'lab/beta', '0.1.0-alpha');
    const repos = async (q: Partial<ChartSearchQuery>) => (await metadata.searchCharts(query(q))).hits.map((h) => `${h.repository} ${h.version.version}`);
    t.same(await repos({}), ['lab/api 3.1.0', 'team/api 1.0.0'], 'browsing: by name; the newest stable version; no chart with only prereleases');
    t.same(await repos({ includePrerelease: true }), ['lab/api 3.1.0', 'team/api 2.0.0-beta.1', 'lab/beta 0.1.0-alpha']);
    t.same(await repos({ repositoryPrefix: 'team/' }), ['team/api 1.0.0']);
    t.same(await repos({ keyword: 'backend' }), ['lab/api 3.1.0', 'team/api 1.0.0'], 'keywords match lower-cased');
    t.same(await repos({ maintainer: 'bo@example.com' }), ['team/api 1.0.0'], 'maintainers of the indexed (latest stable) version');
    t.same(await repos({ majors: [1, 2] }), ['team/api 1.0.0']);
    const chosen = await metadata.searchCharts(
      query({
        includePrerelease: true,
        choose: (candidate) => (candidate.repository.startsWith('lab/') ? undefined : candidate.versions[candidate.versions.length - 1]),
      }),
    );
    t.same(chosen.hits.map((h) => `${h.repository} ${h.version.version}`), ['team/api 1.0.0'], 'code picks the version, or leaves the chart out');
    t.equal(chosen.total, 1, 'and the total counts only what it kept');
    const paged = await metadata.searchCharts(query({ choose: (candidate) => candidate.latest, limit: 1, offset: 1 }));
    t.same([paged.total, paged.hits.map((h) => h.repository)], [3, ['team/api']], 'paged after choosing');
  });

  t.test('search: rebuilt from the chart rows', async (t) => {
    const { metadata } = await open(t);
    await pushChart(metadata, 'team/one', '1.0.0');
    await pushChart(metadata, 'team/two', '1.0.0');
    t.equal(await metadata.rebuildSearchIndex(), 2);
    t.equal((await metadata.searchCharts(query({ terms: words('two') }))).total, 1);
  });

  t.test('garbage collection: unreferenced blobs past the grace period, held removals, untagged manifests', async (t) => {
    const { metadata } = await open(t);
    const kept = await blob(metadata, 'team/app');
    const orphan = await blob(metadata, 'team/app');
    await metadata.putManifest(manifest('team/app', { tag: 'v1', refs: [{ kind: 'blob', digest: kept.digest }] }));
    const untagged = manifest('team/app', { refs: [{ kind: 'blob', digest: kept.digest }] });
    await metadata.putManifest(untagged);
    const cutoff = tick() + 1;
    await new Promise((resolve) => setTimeout(resolve, 3));
    const young = await blob(metadata, 'team/app');

    t.same((await metadata.garbageBlobs('', cutoff, 100)).map((b) => b.digest), [orphan.digest], 'only the unreferenced blob older than the cutoff');
    t.same(await metadata.garbageBlobs('', 0, 100), [], 'a cutoff before everything keeps everything');
    t.same(await metadata.forgetBlobs([orphan.digest, kept.digest, young.digest], cutoff), [orphan.digest], 'only what is still garbage is forgotten');
    t.notOk(await metadata.hasBlob(orphan.digest));
    t.equal(await metadata.linkedBlob('team/app', orphan.digest), undefined, 'with its links');

    let removed = 0;
    t.ok(await metadata.removeUnrecordedBlob(orphan.digest, () => void (removed += 1)), 'an unrecorded blob file may go');
    t.notOk(await metadata.removeUnrecordedBlob(kept.digest, () => void (removed += 1)), 'a recorded one may not');
    await metadata.holdFileRemovals('backup', Date.now() + 60_000);
    t.ok(await metadata.fileRemovalsHeld());
    t.notOk(await metadata.removeUnrecordedBlob(orphan.digest, () => void (removed += 1)), 'not while removals are held');
    await metadata.releaseHold('backup');
    t.notOk(await metadata.fileRemovalsHeld());
    await metadata.holdFileRemovals('expired', Date.now() - 1);
    t.notOk(await metadata.fileRemovalsHeld(), 'an expired hold holds nothing');
    t.equal(removed, 1);

    const garbage = await metadata.garbageManifests(undefined, cutoff, 100);
    t.same(garbage.map((m) => m.digest), [untagged.digest], 'the untagged manifest');
    t.match(garbage[0], { repository: 'team/app', size: untagged.content.length });
    t.ok(await metadata.dropGarbageManifest(garbage[0] as (typeof garbage)[number], cutoff));
    t.equal(await metadata.getManifest('team/app', { digest: untagged.digest }), undefined);
    t.same(await metadata.garbageManifests(undefined, cutoff, 100), []);
  });

  t.test('garbage collection: an index keeps its children, a live subject its referrers', async (t) => {
    const { metadata } = await open(t);
    const child = manifest('team/app');
    const subject = manifest('team/app', { tag: 'v1' });
    await metadata.putManifest(child);
    await metadata.putManifest(subject);
    await metadata.putManifest(manifest('team/app', { tag: 'index', refs: [{ kind: 'manifest', digest: child.digest }] }));
    const referrer = manifest('team/app', { subject: subject.digest });
    const orphanReferrer = manifest('team/app', { subject: sha('gone') });
    await metadata.putManifest(referrer);
    await metadata.putManifest(orphanReferrer);
    const cutoff = tick() + 1;
    await new Promise((resolve) => setTimeout(resolve, 3));
    t.same((await metadata.garbageManifests(undefined, cutoff, 100)).map((m) => m.digest), [orphanReferrer.digest]);
  });

  t.test('garbage collection racing pushes never leaves a manifest naming a forgotten blob', async (t) => {
    const { metadata, another } = await open(t);
    const collector = await another();
    for (let round = 0; round < 20; round++) {
      const layer = await blob(metadata, 'team/race');
      const cutoff = tick() + 1;
      await new Promise((resolve) => setTimeout(resolve, 2));
      const push = metadata.putManifest(manifest('team/race', { tag: `v${round}`, refs: [{ kind: 'blob', digest: layer.digest }] }));
      const forget = collector.forgetBlobs([layer.digest], cutoff);
      const [pushed, forgotten] = await Promise.all([push, forget]);
      if (pushed.ok) t.same(forgotten, [], `round ${round}: the push won, the blob stays`);
      else t.same([pushed.reason, forgotten], ['missing', [layer.digest]], `round ${round}: the collection won, the push was told the blob is missing`);
      if (pushed.ok) t.ok(await metadata.hasBlob(layer.digest));
    }
  });

  t.test('robot tokens: created once, found, listed, revoked', async (t) => {
    const { metadata } = await open(t);
    const token = { name: 'ci', secretHash: 'ab'.repeat(32), scopes: [{ repository: 'team/**', actions: ['pull', 'push'] as ('pull' | 'push')[] }], createdAt: tick(), expiresAt: undefined, revokedAt: undefined };
    t.ok(await metadata.createRobotToken(token));
    t.notOk(await metadata.createRobotToken(token), 'a name is taken once');
    t.same(await metadata.findRobotToken('ci'), token);
    t.same((await metadata.listRobotTokens()).map((r) => r.name), ['ci']);
    t.ok(await metadata.revokeRobotToken('ci', 123));
    t.notOk(await metadata.revokeRobotToken('ci', 456), 'revoked once');
    t.equal((await metadata.findRobotToken('ci'))?.revokedAt, 123);
    t.equal(await metadata.findRobotToken('nobody'), undefined);
  });

  t.test('stats and ping', async (t) => {
    const { metadata } = await open(t);
    await pushChart(metadata, 'team/app', '1.0.0');
    await pushChart(metadata, 'team/app', '1.1.0');
    const now = tick();
    await metadata.createUpload({ id: 'open', repository: 'team/app', offset: 0, startedAt: now, updatedAt: now });
    t.same(await metadata.stats(), { repositories: 1, charts: 1, chartVersions: 2, blobs: 4, blobBytes: 400, uploadsInProgress: 1 });
    await metadata.ping();
    t.pass('ping answers');
  });

  t.test("changes: this process's at once, another process's by the next sync", async (t) => {
    const { metadata, another } = await open(t);
    const replica = await another();
    const heardHere: (string | undefined)[] = [];
    const heardThere: (string | undefined)[] = [];
    metadata.onChange((repository) => heardHere.push(repository));
    replica.onChange((repository) => heardThere.push(repository));
    await replica.syncChanges();
    heardThere.length = 0;
    await metadata.putManifest(manifest('team/app', { tag: 'v1' }));
    t.same(heardHere, ['team/app'], 'the writer hears its own change when the write resolves');
    await replica.syncChanges();
    t.same(heardThere, ['team/app'], 'another process has heard it once it synced');
    await metadata.deleteTag('team/app', 'v1');
    await replica.syncChanges();
    t.same(heardThere, ['team/app', 'team/app']);
  });

  t.test('runAlone: the work runs; another process is kept out while it does where the store can', async (t) => {
    const { metadata, another, exclusiveAcrossProcesses } = await open(t);
    const replica = await another();
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let entered: () => void = () => undefined;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const first = metadata.runAlone('job', async () => {
      entered();
      await held;
      return 'first';
    });
    await inside;
    const second = await replica.runAlone('job', async () => 'second');
    if (exclusiveAcrossProcesses) t.same(second, { ran: false }, 'the second process skips');
    else t.same(second, { ran: true, result: 'second' });
    t.same(await replica.runAlone('other job', async () => 'other'), { ran: true, result: 'other' }, 'work of another name runs');
    release();
    t.same(await first, { ran: true, result: 'first' });
    t.same(await replica.runAlone('job', async () => 'later'), { ran: true, result: 'later' }, 'and once it is done, the next may');
  });
}
