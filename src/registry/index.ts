import { createBlobs } from './blobs.js';
import { createChartSearch } from '../search/chart-search.js';
import { createChartCatalog } from './chart-catalog.js';
import { createChartRepository } from './chart-repository.js';
import { createChartUploads } from './chart-upload.js';
import type { RegistryContext } from './context.js';
import { createGarbageCollector } from './gc.js';
import { createListing } from './listing.js';
import { createManifests } from './manifests.js';
import { createUploads } from './uploads.js';

export type { RegistryContext } from './context.js';

/** The registry's rules, one service per resource, over the given stores. */
export function createRegistry(ctx: RegistryContext) {
  const manifests = createManifests(ctx);
  return {
    uploads: createUploads(ctx),
    blobs: createBlobs(ctx),
    manifests,
    listing: createListing(ctx),
    chartRepository: createChartRepository(ctx),
    chartUploads: createChartUploads(ctx, manifests),
    chartCatalog: createChartCatalog(ctx),
    chartSearch: createChartSearch(ctx),
    gc: createGarbageCollector(ctx),
  };
}

export type Registry = ReturnType<typeof createRegistry>;
