import { OciError } from '../errors.js';
import type { Descriptor, PageRequest } from '../db/metadata.js';
import type { RegistryContext } from './context.js';
import { checkDigest, checkName } from './grammar.js';
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

export function createListing(ctx: RegistryContext) {
  const { metadata } = ctx;
  return {
    async tags(repository: string, page: PageRequest): Promise<Page> {
      checkName(repository);
      const result = await paged(page, (p) => metadata.listTags(repository, p));
      if (!result) throw new OciError('NAME_UNKNOWN', 'repository name not known to registry', { detail: { name: repository } });
      return result;
    },

    async catalog(page: PageRequest): Promise<Page> {
      return (await paged(page, (p) => metadata.listRepositories(p))) as Page;
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
