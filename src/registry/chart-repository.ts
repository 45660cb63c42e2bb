import semver from 'semver';
import type { ChartVersion } from '../db/metadata.js';
import { OciError } from '../errors.js';
import type { BlobContent } from '../storage/blob-store.js';
import { readContent } from './blobs.js';
import { createChartIndex, type IndexDocument, type IndexFormat } from './chart-index.js';
import type { RegistryContext } from './context.js';
import { isValidName, truncate } from './grammar.js';

/** A chart or provenance file: its bytes, or where the client fetches them when the store hands out URLs (see BlobStore.downloadUrl). */
export type ChartDownload = { digest: string; kind: 'chart' | 'provenance' } & ({ content: BlobContent } | { redirect: string });

function checkNamespace(namespace: string): string {
  if (namespace !== '' && !isValidName(namespace)) throw new OciError('NAME_INVALID', `invalid namespace: ${truncate(namespace)}`);
  return namespace;
}

/** The classic chart repository view of the store: indexes and chart downloads per namespace. */
export function createChartRepository(ctx: RegistryContext) {
  const { metadata, blobs } = ctx;
  const index = createChartIndex(ctx);

  /** `app-1.2.3-rc.1.tgz`: names and versions both hold dashes, so try each split whose right side is semver. */
  async function versionForFile(namespace: string, base: string): Promise<ChartVersion | undefined> {
    for (let dash = base.indexOf('-'); dash > 0; dash = base.indexOf('-', dash + 1)) {
      const version = base.slice(dash + 1);
      if (!semver.valid(version)) continue;
      const found = await metadata.getChartVersion(namespace, base.slice(0, dash), version);
      if (found) return found;
    }
    return undefined;
  }

  return {
    async index(namespace: string, format: IndexFormat, host: string, visible?: (repository: string) => boolean): Promise<{ document: IndexDocument; hidden: number; shown: number }> {
      return index.document(checkNamespace(namespace), format, host, visible);
    },

    /** A chart or provenance file; one that `visible` refuses is as absent as a missing one. */
    async download(namespace: string, file: string, visible: (repository: string) => boolean): Promise<ChartDownload> {
      checkNamespace(namespace);
      const match = /^(.+)\.tgz(\.prov)?$/.exec(file);
      const found = match ? await versionForFile(namespace, match[1] as string) : undefined;
      const version = found && visible(found.repository) ? found : undefined;
      const kind = match?.[2] ? 'provenance' : 'chart';
      const digest = kind === 'chart' ? version?.chartDigest : version?.provDigest;
      if (!version || !digest) throw new OciError('NOT_FOUND', `no chart file ${truncate(file)} in this repository`);
      if (blobs.downloadUrl) return { redirect: await blobs.downloadUrl(digest), digest, kind };
      return { content: await readContent(blobs, digest), digest, kind };
    },
  };
}

export type ChartRepository = ReturnType<typeof createChartRepository>;
