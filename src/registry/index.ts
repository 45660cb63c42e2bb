import { createBlobs } from './blobs.js';
import { createChartRepository } from './chart-repository.js';
import type { RegistryContext } from './context.js';
import { createListing } from './listing.js';
import { createManifests } from './manifests.js';
import { createUploads } from './uploads.js';

export type { RegistryContext } from './context.js';

/** The registry's rules, one service per resource, over the given stores. */
export function createRegistry(ctx: RegistryContext) {
  return {
    uploads: createUploads(ctx),
    blobs: createBlobs(ctx),
    manifests: createManifests(ctx),
    listing: createListing(ctx),
    chartRepository: createChartRepository(ctx),
  };
}

export type Registry = ReturnType<typeof createRegistry>;
