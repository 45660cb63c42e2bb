import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { Descriptor } from '../../src/db/metadata.js';

export const mediaTypes = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerTar: 'application/vnd.oci.image.layer.v1.tar',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
} as const;

/** The sha256 of `bytes`, hex only (as ChartMuseum and index.yaml write it). */
export function sha256hex(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The digest of `bytes`: `sha256:<hex>`. */
export function sha256(bytes: Buffer | string): string {
  return `sha256:${sha256hex(bytes)}`;
}

export type { Descriptor };

/** An OCI image manifest as the tests read it back. */
export interface ImageManifest {
  schemaVersion: number;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

export function describe(bytes: Buffer, mediaType: string): Descriptor {
  return { mediaType, digest: sha256(bytes), size: bytes.length };
}

/** Monolithic blob push (POST with ?digest=), the shortest path into a repository. */
export async function pushBlob(app: FastifyInstance, repository: string, bytes: Buffer): Promise<string> {
  const digest = sha256(bytes);
  const res = await app.inject({ method: 'POST', url: `/v2/${repository}/blobs/uploads/?digest=${digest}`, payload: bytes });
  if (res.statusCode !== 201) throw new Error(`blob push failed: ${res.statusCode} ${res.body}`);
  return digest;
}

export interface PushedImage {
  manifest: Buffer;
  digest: string;
  config: Buffer;
  layers: Buffer[];
}

/** An OCI image manifest for a config and layers (plus any extra fields). */
export function imageManifest(config: Buffer, layers: Buffer[], extra: Record<string, unknown> = {}): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: mediaTypes.ociManifest,
      config: describe(config, mediaTypes.ociConfig),
      layers: layers.map((layer) => describe(layer, mediaTypes.ociLayer)),
      ...extra,
    }),
  );
}

/** Pushes a config and layers, then an OCI image manifest referencing them. */
export async function pushImage(
  app: FastifyInstance,
  repository: string,
  reference: string,
  extra: Record<string, unknown> = {},
): Promise<PushedImage> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', nonce: randomBytes(8).toString('hex') }));
  const layers = [randomBytes(512), randomBytes(1024)];
  await pushBlob(app, repository, config);
  for (const layer of layers) await pushBlob(app, repository, layer);
  const manifest = imageManifest(config, layers, extra);
  const res = await putManifest(app, repository, reference, manifest);
  if (res.statusCode !== 201) throw new Error(`manifest push failed: ${res.statusCode} ${res.body}`);
  return { manifest, digest: sha256(manifest), config, layers };
}

export function putManifest(
  app: FastifyInstance,
  repository: string,
  reference: string,
  body: Buffer | string,
  contentType: string = mediaTypes.ociManifest,
): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'PUT', url: `/v2/${repository}/manifests/${reference}`, payload: body, headers: { 'content-type': contentType } });
}

/** The first error code of an OCI error body. */
export function errorCode(res: LightMyRequestResponse): string | undefined {
  try {
    return (JSON.parse(res.body) as { errors?: { code?: string }[] }).errors?.[0]?.code;
  } catch {
    return undefined;
  }
}
