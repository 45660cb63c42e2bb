import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { OciError } from '../errors.js';
import type { StoredManifest } from '../db/metadata.js';
import type { ChangeSource, ManifestChange } from './changes.js';
import type { RegistryContext } from './context.js';
import { checkDigest, checkName, isValidTag, looksLikeDigest, parseReference, truncate, type Reference } from './grammar.js';
import { createChartIngest, isChartManifest } from './chart-ingest.js';
import { ChangeCache } from './change-cache.js';
import { parseManifest } from './manifest-format.js';

export interface PushedManifest {
  digest: string;
  subject: string | undefined;
}

export interface ManifestBody {
  stream: Readable;
  length: number | undefined;
  contentType: string | undefined;
}

/** At most this many manifests, each of at most this size, are kept in memory (a few MiB for charts' ~1 KiB manifests). */
const hotManifests = 4096;
const hotManifestBytes = 16 * 1024;

export function createManifests(ctx: RegistryContext) {
  const { metadata, config } = ctx;
  const limit = config.limits.maxManifestBytes;
  const charts = createChartIngest(ctx);

  /** Reading or deleting by a malformed tag finds nothing (a 404, as the conformance suite expects); pushing to one is a 400. */
  function lookup(repository: string, referenceParam: string): Reference | undefined {
    checkName(repository);
    if (looksLikeDigest(referenceParam)) return { digest: checkDigest(referenceParam) };
    return isValidTag(referenceParam) ? { tag: referenceParam } : undefined;
  }

  // Hot manifests by repository and reference: what a pull asks for again and again costs no database round trip.
  const hot = new ChangeCache<StoredManifest | undefined>(metadata, hotManifests);
  const stored = (repository: string, reference: Reference): Promise<StoredManifest | undefined> =>
    // A tag has no ':' and a digest always has one; a repository name has no space.
    hot.read(repository, `${repository} ${'tag' in reference ? reference.tag : reference.digest}`, () => metadata.getManifest(repository, reference), (manifest) =>
      manifest !== undefined && manifest.size <= hotManifestBytes,
    );

  async function find(repository: string, referenceParam: string): Promise<StoredManifest> {
    const reference = lookup(repository, referenceParam);
    const manifest = reference && (await stored(repository, reference));
    if (!manifest) {
      throw new OciError('MANIFEST_UNKNOWN', `manifest unknown: ${truncate(referenceParam)}`, {
        detail: { reference: truncate(referenceParam) },
      });
    }
    return manifest;
  }

  /** What a delete is about to remove, read before it goes (the event describes what was there). */
  async function describeStored(repository: string, reference: Reference): Promise<Omit<ManifestChange, 'action' | 'source' | 'at'> | undefined> {
    const manifest = await metadata.getManifest(repository, reference);
    if (!manifest) return undefined;
    const chart = await metadata.chartOfManifest(repository, manifest.digest);
    return {
      repository,
      tag: 'tag' in reference ? reference.tag : undefined,
      digest: manifest.digest,
      mediaType: manifest.mediaType,
      // Stored manifests were parsed when pushed; parsing again cannot fail.
      artifactType: parseManifest(manifest.content, manifest.mediaType).artifactType,
      size: manifest.size,
      chart: chart && { name: chart.name, version: chart.version },
    };
  }

  return {
    get: find,

    /** `replaceChartVersion` lets this push move a chart-version tag (adding provenance to the same chart). */
    async put(repository: string, referenceParam: string, body: ManifestBody, source: ChangeSource, replaceChartVersion = false): Promise<PushedManifest> {
      checkName(repository);
      const reference = parseReference(referenceParam);
      if (body.length !== undefined && body.length > limit) throw tooLarge(limit);
      const content = await readAtMost(body.stream, limit);

      const algorithm = 'digest' in reference ? (reference.digest.split(':')[0] as string) : 'sha256';
      const digest = `${algorithm}:${createHash(algorithm).update(content).digest('hex')}`;
      if ('digest' in reference && reference.digest !== digest) {
        throw new OciError('DIGEST_INVALID', 'manifest digest does not match the reference', {
          detail: { reference: reference.digest, actual: digest },
        });
      }

      const facts = parseManifest(content, body.contentType);
      const tag = 'tag' in reference ? reference.tag : undefined;
      const chart = isChartManifest(facts) ? await charts.ingest(repository, digest, facts, tag) : undefined;
      const result = await metadata.putManifest({
        repository,
        digest,
        mediaType: facts.mediaType,
        artifactType: facts.artifactType,
        subject: facts.subject,
        annotations: facts.annotations,
        refs: facts.refs,
        content,
        tag,
        chart,
        chartVersionsImmutable: !config.charts.allowOverwrite && !replaceChartVersion,
        createdAt: ctx.now(),
      });
      if (!result.ok && result.reason === 'immutable') {
        throw new OciError('DENIED', `${repository}:${tag} is a chart version and already holds other content; chart versions are immutable`, {
          status: 409,
          detail: { existing: result.existing },
        });
      }
      if (!result.ok && result.reason === 'missing') {
        throw new OciError('MANIFEST_BLOB_UNKNOWN', 'manifest references content unknown to this repository', {
          detail: result.missing,
        });
      }
      ctx.changes.changed({
        action: 'push',
        repository,
        tag,
        digest,
        mediaType: facts.mediaType,
        artifactType: facts.artifactType,
        size: content.length,
        chart: chart && { name: chart.name, version: chart.version },
        source,
        at: ctx.now(),
      });
      return { digest, subject: facts.subject };
    },

    /** By digest: removes the manifest and its tags. By tag: removes only the tag. */
    async delete(repository: string, referenceParam: string, source: ChangeSource): Promise<void> {
      const reference = lookup(repository, referenceParam);
      const before = reference && ctx.changes.wants('delete', repository) ? await describeStored(repository, reference) : undefined;
      const deleted =
        reference !== undefined &&
        ('tag' in reference ? await metadata.deleteTag(repository, reference.tag) : await metadata.deleteManifest(repository, reference.digest));
      if (!deleted) throw new OciError('MANIFEST_UNKNOWN', `manifest unknown: ${truncate(referenceParam)}`);
      if (before) ctx.changes.changed({ action: 'delete', ...before, source, at: ctx.now() });
    },
  };
}

export type Manifests = ReturnType<typeof createManifests>;

function tooLarge(limit: number): OciError {
  return new OciError('MANIFEST_INVALID', `manifest exceeds the limit of ${limit} bytes`, {
    status: 413,
    headers: { connection: 'close' },
  });
}

/**
 * Reads a small body whole, refusing it as soon as it passes `limit` bytes. The request stream
 * is paused, not destroyed, so the 413 still reaches the client before the connection closes.
 */
function readAtMost(stream: Readable, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      stream.off('data', onData).off('end', onEnd).off('error', onError);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        stream.pause();
        reject(tooLarge(limit));
      } else {
        chunks.push(chunk);
      }
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    stream.on('data', onData).on('end', onEnd).on('error', onError);
  });
}
