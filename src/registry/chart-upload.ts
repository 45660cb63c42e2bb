import { Readable } from 'node:stream';
import { newestFirst } from '../charts/versions.js';
import { ChartError, readChartArchive } from '../charts/archive.js';
import { parseChartYaml, versionTag, type ChartMetadata } from '../charts/chart-yaml.js';
import type { IndexEntry } from '../charts/index-document.js';
import { chartConfig, chartManifest, helmMediaTypes, type BlobRef } from '../charts/oci-layout.js';
import { provenanceSubject } from '../charts/provenance.js';
import { OciError } from '../errors.js';
import { BlobTooLargeError, type UploadState } from '../storage/blob-store.js';
import { toEntry } from './chart-index.js';
import type { ChangeSource } from './changes.js';
import type { RegistryContext } from './context.js';
import { isValidName, truncate } from './grammar.js';
import type { Manifests } from './manifests.js';
import { recordCommitted } from './uploads.js';

/** Owner of upload sessions that belong to no repository yet (not a valid repository name). */
const unownedUploads = '_chartmuseum';
const maxProvenanceBytes = 1024 * 1024;

function badChart(message: string): OciError {
  return new OciError('BAD_REQUEST', message);
}

function repositoryFor(namespace: string, name: string): string {
  const repository = namespace === '' ? name : `${namespace}/${name}`;
  if (!isValidName(repository)) throw badChart(`chart name "${truncate(name)}" cannot name a repository (lowercase letters, digits, . _ -)`);
  return repository;
}

async function readSmall(stream: Readable, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw badChart(`the provenance file is larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** An upload received but not yet a blob: checked first, committed only when the chart is accepted. */
export interface StagedBlob extends BlobRef {
  id: string;
  state: UploadState;
}

export interface StagedUpload {
  chart?: StagedBlob;
  prov?: StagedBlob;
}

/**
 * ChartMuseum's upload API over the OCI store: an uploaded `.tgz` (and `.prov`) becomes the
 * artifact `helm push` would have made, pushed through the same manifest path as any push.
 */
export function createChartUploads(ctx: RegistryContext, manifests: Manifests) {
  const { metadata, blobs, config } = ctx;

  /**
   * Streams a body into an upload (hashed on the way). It becomes a blob only once the chart is
   * accepted (`publish`); `discard` drops it either way, so a refused upload stores nothing.
   */
  async function store(body: Readable, maxBytes: number): Promise<StagedBlob> {
    const id = await blobs.startUpload();
    const now = ctx.now();
    await metadata.createUpload({ id, repository: unownedUploads, offset: 0, startedAt: now, updatedAt: now });
    try {
      const { state } = await blobs.append(id, body, 0, { maxSize: maxBytes });
      return { id, state, ...(await blobs.uploadDigest(id, state)) };
    } catch (err) {
      await drop(id);
      if (err instanceof BlobTooLargeError) throw new OciError('SIZE_INVALID', `the upload is larger than ${err.limit} bytes`, { status: 413 });
      throw err;
    }
  }

  async function drop(id: string, state?: UploadState): Promise<void> {
    await metadata.deleteUpload(id).catch(() => false);
    await blobs.abort(id, state).catch(() => undefined);
  }

  async function discard(upload: StagedUpload): Promise<void> {
    for (const staged of [upload.chart, upload.prov]) if (staged) await drop(staged.id, staged.state);
  }

  /** Makes an accepted upload a blob (linking happens with the manifest). */
  async function commit(staged: StagedBlob): Promise<BlobRef> {
    await blobs.commit(staged.id, staged.digest, staged.size, staged.state);
    return { digest: staged.digest, size: staged.size };
  }

  async function chartOf(staged: StagedBlob): Promise<ChartMetadata> {
    try {
      const files = await readChartArchive(await blobs.openUpload(staged.id, staged.state), {
        maxUnpackedBytes: config.charts.maxUnpackedBytes,
        maxFileBytes: config.charts.maxFileBytes,
      });
      return parseChartYaml(files.chartYaml);
    } catch (err) {
      if (err instanceof ChartError) throw badChart(`invalid chart: ${err.message}`);
      throw err;
    }
  }

  async function provenanceOf(staged: StagedBlob): Promise<{ name: string; version: string }> {
    try {
      return provenanceSubject(await readSmall(await blobs.openUpload(staged.id, staged.state), maxProvenanceBytes));
    } catch (err) {
      if (err instanceof ChartError) throw badChart(err.message);
      throw err;
    }
  }

  async function find(namespace: string, name: string, version: string) {
    const found = await metadata.getChartVersion(namespace, name, version);
    if (!found) throw new OciError('NOT_FOUND', `no chart version found for ${truncate(name)}-${truncate(version)}`);
    return found;
  }

  /** `mayPush` is asked once the repository is known (it is named by the chart inside the upload). */
  async function publish(
    namespace: string,
    upload: StagedUpload,
    mayPush: (repository: string) => Promise<void>,
    source: ChangeSource,
  ): Promise<'stored' | 'unchanged'> {
    const { chart, prov } = upload;
    let chartBlob: BlobRef;
    let meta: ChartMetadata;
    if (chart) {
      meta = await chartOf(chart);
      chartBlob = { digest: chart.digest, size: chart.size };
    } else if (prov) {
      const subject = await provenanceOf(prov);
      const existing = await find(namespace, subject.name, subject.version);
      meta = existing.metadata;
      chartBlob = { digest: existing.chartDigest, size: existing.chartSize };
    } else {
      throw badChart('no package or provenance file found in form fields chart and prov');
    }
    if (prov && chart) {
      const subject = await provenanceOf(prov);
      if (subject.name !== meta.name || subject.version !== meta.version) {
        throw badChart(`the provenance file signs ${subject.name} ${subject.version}, not ${meta.name} ${meta.version}`);
      }
    }
    const repository = repositoryFor(namespace, meta.name);
    await mayPush(repository);
    const existing = await metadata.getChartVersion(namespace, meta.name, meta.version);
    const sameChart = existing?.chartDigest === chartBlob.digest;
    if (existing && sameChart && (!prov || existing.provDigest === prov.digest)) return 'unchanged'; // already stored as sent
    if (existing && !sameChart && !config.charts.allowOverwrite) {
      throw new OciError('DENIED', `${meta.name}-${meta.version}.tgz already exists; chart versions are immutable here`, { status: 409 });
    }

    if (chart) await commit(chart);
    const provBlob = prov ? await commit(prov) : undefined;
    const configStaged = await store(Readable.from([chartConfig(meta)]), maxProvenanceBytes);
    let configBlob: BlobRef;
    try {
      configBlob = await commit(configStaged);
      // Linked while the uploads are still there, to commit again should a collection remove a stored copy first.
      const linked: [BlobRef, StagedBlob | undefined][] = [[chartBlob, chart], [configBlob, configStaged], ...(provBlob ? [[provBlob, prov] as [BlobRef, StagedBlob]] : [])];
      for (const [blob, staged] of linked) {
        await recordCommitted(staged && (() => commit(staged)), () => metadata.linkNewBlob(repository, blob, () => blobs.has(blob.digest)));
      }
    } finally {
      await drop(configStaged.id, configStaged.state);
    }
    const manifest = chartManifest(meta, configBlob, chartBlob, provBlob, new Date(ctx.now()));
    await manifests.put(
      repository,
      versionTag(meta.version),
      { stream: Readable.from([manifest]), length: manifest.length, contentType: helmMediaTypes.manifest },
      source,
      sameChart,
    );
    return 'stored';
  }

  function entriesByName(versions: Awaited<ReturnType<typeof metadata.listChartVersions>>): Map<string, IndexEntry[]> {
    const byName = new Map<string, IndexEntry[]>();
    for (const version of [...versions].sort(newestFirst)) {
      const list = byName.get(version.name) ?? [];
      list.push(toEntry(version));
      byName.set(version.name, list);
    }
    return byName;
  }

  return {
    store,
    publish,
    discard,

    /** Every chart of a namespace that `visible` accepts, name → versions newest first, paged over names. */
    async list(namespace: string, offset: number, limit: number | undefined, visible: (repository: string) => boolean): Promise<Record<string, IndexEntry[]>> {
      const byName = entriesByName((await metadata.listChartVersions(namespace)).filter((v) => visible(v.repository)));
      const names = [...byName.keys()].sort().slice(offset, limit === undefined ? undefined : offset + limit);
      return Object.fromEntries(names.map((name) => [name, byName.get(name) ?? []]));
    },

    async versions(namespace: string, name: string): Promise<IndexEntry[]> {
      const entries = entriesByName(await metadata.listChartVersions(namespace, name)).get(name);
      if (!entries) throw new OciError('NOT_FOUND', 'chart not found');
      return entries;
    },

    /** One version; `latest` is the highest version. */
    async version(namespace: string, name: string, version: string): Promise<IndexEntry> {
      if (version === 'latest') {
        const [newest] = entriesByName(await metadata.listChartVersions(namespace, name)).get(name) ?? [];
        if (!newest) throw new OciError('NOT_FOUND', 'chart not found');
        return newest;
      }
      return toEntry(await find(namespace, name, version));
    },

    /** Removes a version: its tag goes, so OCI pulls and the classic index no longer see it. */
    async remove(namespace: string, name: string, version: string, source: ChangeSource): Promise<void> {
      const found = await find(namespace, name, version);
      await manifests.delete(found.repository, found.versionTag, source);
    },
  };
}

export type ChartUploads = ReturnType<typeof createChartUploads>;
