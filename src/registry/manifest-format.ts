import { OciError } from '../errors.js';
import type { ManifestRef } from '../db/metadata.js';
import { isValidDigest } from './grammar.js';

export const mediaTypes = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
} as const;

const imageTypes = new Set<string>([mediaTypes.ociManifest, mediaTypes.dockerManifest]);
const indexTypes = new Set<string>([mediaTypes.ociIndex, mediaTypes.dockerList]);

/** RFC 6838 type/subtype, the shape the image spec requires of every media type. */
const mediaTypePattern = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

/** What the registry needs to know of a manifest to store and link it. */
export interface ManifestFacts {
  mediaType: string;
  /** The manifest's `artifactType`, or for an image manifest its config's media type (as the referrers API reports it). */
  artifactType: string | undefined;
  subject: string | undefined;
  annotations: Record<string, string> | undefined;
  refs: ManifestRef[];
  /** An image manifest's config and layers (what chart ingestion looks at). */
  config?: Descriptor;
  layers?: Descriptor[];
}

type Json = Record<string, unknown>;

function invalid(message: string, detail?: unknown): OciError {
  return new OciError('MANIFEST_INVALID', message, detail === undefined ? {} : { detail });
}

/**
 * Parses and checks a manifest body against the Content-Type it was pushed with. The type
 * comes from the header (Helm sends no `mediaType` field) or, failing that, from the body.
 */
export function parseManifest(content: Buffer, contentType: string | undefined): ManifestFacts {
  let doc: unknown;
  try {
    doc = JSON.parse(content.toString('utf8'));
  } catch {
    throw invalid('manifest is not valid JSON');
  }
  if (!isObject(doc)) throw invalid('manifest must be a JSON object');
  if (doc.schemaVersion !== 2) throw invalid('schemaVersion must be 2');

  const declared = optionalString(doc, 'mediaType', 'mediaType');
  const header = contentType?.split(';')[0]?.trim().toLowerCase();
  const known = (type: string | undefined): type is string => type !== undefined && (imageTypes.has(type) || indexTypes.has(type));
  let mediaType: string;
  if (known(header)) {
    if (declared !== undefined && declared !== header) {
      throw invalid(`mediaType ${declared} does not match Content-Type ${header}`);
    }
    mediaType = header;
  } else if (known(declared)) {
    mediaType = declared;
  } else {
    throw invalid(`unsupported manifest media type: ${header ?? declared ?? '(none)'}`);
  }

  const artifactType = optionalMediaType(doc, 'artifactType');
  const annotations = optionalAnnotations(doc, 'annotations');
  const subjectDescriptor = doc.subject === undefined ? undefined : descriptor(doc.subject, 'subject');

  if (imageTypes.has(mediaType)) {
    const config = descriptor(doc.config, 'config');
    if (!Array.isArray(doc.layers)) throw invalid('layers must be an array');
    const layers = doc.layers.map((layer, i) => descriptor(layer, `layers[${i}]`));
    const refs: ManifestRef[] = [{ kind: 'blob', digest: config.digest }];
    for (const layer of layers) {
      // Foreign (non-distributable) layers live elsewhere: they are fetched from their urls.
      if (!layer.urls) refs.push({ kind: 'blob', digest: layer.digest });
    }
    return {
      mediaType,
      artifactType: artifactType ?? config.mediaType,
      subject: subjectDescriptor?.digest,
      annotations,
      refs: dedupe(refs),
      config,
      layers,
    };
  }

  if (!Array.isArray(doc.manifests)) throw invalid('manifests must be an array');
  const children = doc.manifests.map((child, i) => descriptor(child, `manifests[${i}]`));
  return {
    mediaType,
    artifactType,
    subject: subjectDescriptor?.digest,
    annotations,
    refs: dedupe(children.map((child) => ({ kind: 'manifest', digest: child.digest }))),
  };
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls: string[] | undefined;
}

function descriptor(value: unknown, field: string): Descriptor {
  if (!isObject(value)) throw invalid(`${field} must be a descriptor object`);
  const mediaType = optionalMediaType(value, 'mediaType', field);
  if (mediaType === undefined) throw invalid(`${field}.mediaType is required`);
  const digest = value.digest;
  if (typeof digest !== 'string' || !isValidDigest(digest)) throw invalid(`${field}.digest is not a valid digest`);
  const size = value.size;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw invalid(`${field}.size must be a non-negative integer`);
  }
  let urls: string[] | undefined;
  if (value.urls !== undefined) {
    if (!Array.isArray(value.urls) || !value.urls.every((url) => typeof url === 'string')) {
      throw invalid(`${field}.urls must be an array of strings`);
    }
    urls = value.urls as string[];
  }
  optionalAnnotations(value, 'annotations', field);
  return { mediaType, digest, size, urls };
}

function optionalString(doc: Json, key: string, field: string): string | undefined {
  const value = doc[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalid(`${field} must be a string`);
  return value;
}

function optionalMediaType(doc: Json, key: string, parent?: string): string | undefined {
  const field = parent ? `${parent}.${key}` : key;
  const value = optionalString(doc, key, field);
  if (value !== undefined && !mediaTypePattern.test(value)) throw invalid(`${field} is not a valid media type`);
  return value;
}

function optionalAnnotations(doc: Json, key: string, parent?: string): Record<string, string> | undefined {
  const value = doc[key];
  if (value === undefined) return undefined;
  const field = parent ? `${parent}.${key}` : key;
  if (!isObject(value) || !Object.values(value).every((v) => typeof v === 'string')) {
    throw invalid(`${field} must map strings to strings`);
  }
  return value as Record<string, string>;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function dedupe(refs: ManifestRef[]): ManifestRef[] {
  const seen = new Set<string>();
  return refs.filter((ref) => {
    const key = `${ref.kind} ${ref.digest}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
