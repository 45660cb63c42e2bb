import { OciError } from '../errors.js';
import type { Descriptor, PageRequest } from '../db/metadata.js';
import type { RegistryContext } from './context.js';
import { checkDigest, checkName } from './grammar.js';
import { ChangeCache } from './change-cache.js';
import { mediaTypes } from './manifest-format.js';

export interface Page {
  items: string[];
  /** The `last` to ask for the next page with, when there is one. */
  next?: { n: number; last: string };
}

export interface ReferrersIndex {
  schemaVersion: 2;
  mediaType: string;
  manifests: Descriptor[];
}

/** Parses `n` and `last`; a bad `n` is a client error, not an empty page. */
export function parsePage(n: string | undefined, last: string | undefined): PageRequest {
  const page: PageRequest = { after: last === '' ? undefined : last };
  if (n !== undefined) {
    if (!/^\d{1,9}$/.test(n)) throw new OciError('PAGINATION_NUMBER_INVALID', 'n must be a non-negative integer');
    page.limit = Number(n);
  }
  return page;
}

/** Index of the first entry sorting after `after` in a sorted list. */
function firstAfter(sorted: string[], after: string): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((sorted[mid] as string) <= after) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** Asks for one entry more than the page holds, to know whether a next page exists. */
async function paged(page: PageRequest, fetch: (page: PageRequest) => Promise<string[] | undefined>): Promise<Page | undefined> {
  if (page.limit === undefined || page.limit === 0) {
    const items = await fetch(page);
    return items && { items: page.limit === 0 ? [] : items };
  }
  const items = await fetch({ ...page, limit: page.limit + 1 });
  if (!items) return undefined;
  if (items.length <= page.limit) return { items };
  const shown = items.slice(0, page.limit);
  return { items: shown, next: { n: page.limit, last: shown[shown.length - 1] as string } };
}

/** A tags/list answer: the JSON document and, when more tags follow, where the next page starts. */
export interface TagsPage {
  document: Buffer;
  next?: { n: number; last: string };
}

interface CachedTags {
  tags: string[];
  /** The unpaged document, built on first use. */
  whole?: Buffer;
}

export function createListing(ctx: RegistryContext) {
  const { metadata } = ctx;
  const tagCache = new ChangeCache<CachedTags>(metadata, 1024);

  const allTags = (repository: string): Promise<CachedTags> =>
    tagCache.read(repository, repository, async () => {
      const tags = await metadata.listTags(repository, {});
      if (!tags) throw new OciError('NAME_UNKNOWN', 'repository name not known to registry', { detail: { name: repository } });
      return { tags };
    });

  const document = (name: string, tags: string[]): Buffer => Buffer.from(JSON.stringify({ name, tags }));

  return {
    /** Tags in lexical order, paged by `n` and `last`, served from memory between changes. */
    async tags(repository: string, page: PageRequest): Promise<TagsPage> {
      checkName(repository);
      const entry = await allTags(repository);
      if (page.limit === undefined && page.after === undefined) {
        entry.whole ??= document(repository, entry.tags);
        return { document: entry.whole };
      }
      const start = page.after === undefined ? 0 : firstAfter(entry.tags, page.after);
      const end = page.limit === undefined ? entry.tags.length : Math.min(entry.tags.length, start + page.limit);
      const shown = entry.tags.slice(start, end);
      const last = shown[shown.length - 1];
      const more = end < entry.tags.length && page.limit !== undefined && page.limit > 0 && last !== undefined;
      return { document: document(repository, shown), ...(more ? { next: { n: page.limit as number, last } } : {}) };
    },

    /** Repositories with content; with `visible`, only those it accepts (paged after filtering). */
    async catalog(page: PageRequest, visible?: (repository: string) => boolean): Promise<Page> {
      if (!visible) return (await paged(page, (p) => metadata.listRepositories(p))) as Page;
      const all = (await metadata.listRepositories({ after: page.after })).filter(visible);
      return (await paged(page, async (p) => all.slice(0, p.limit))) as Page;
    },

    async referrers(repository: string, digestParam: string, artifactType: string | undefined): Promise<ReferrersIndex> {
      checkName(repository);
      const digest = checkDigest(digestParam);
      const manifests = await metadata.listReferrers(repository, digest, artifactType);
      return { schemaVersion: 2, mediaType: mediaTypes.ociIndex, manifests };
    },
  };
}

export type Listing = ReturnType<typeof createListing>;
