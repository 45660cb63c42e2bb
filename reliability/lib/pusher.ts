// Pushes random artifacts through the OCI API the ways clients do (monolithic POST, POST then
// PUT, chunked PATCHes with or without a last chunk on the PUT), keeping a ledger of what the
// server acknowledged and of what was in flight when the connection died.
import { createHash } from 'node:crypto';
import { createClient, sha256, type OciClient, type Response } from '../../bench/oci-client.js';
import { seededBytes, type Rng } from './rng.js';

export const manifestType = 'application/vnd.oci.image.manifest.v1+json';

/** A blob is regenerated from its seed and size: nothing big is kept in memory. */
export interface BlobSpec {
  seed: number;
  size: number;
  digest: string;
}

export type UploadMode = 'monolithic' | 'post-put' | 'chunked' | 'chunked-last-put';
export const uploadModes: readonly UploadMode[] = ['monolithic', 'post-put', 'chunked', 'chunked-last-put'];

export interface AckedBlob {
  repository: string;
  digest: string;
  size: number;
}

export interface AckedManifest {
  repository: string;
  tag: string;
  digest: string;
  bytes: Buffer;
}

/** What a pusher was doing when its connection died. */
export type InFlight =
  | { kind: 'blob'; repository: string; spec: BlobSpec; location?: string; acked: number; sending?: number }
  | { kind: 'manifest'; repository: string; tag: string; bytes: Buffer; blobs: BlobSpec[] };

export interface Ledger {
  blobs: AckedBlob[];
  manifests: AckedManifest[];
  /** Requests answered with a status the protocol does not allow here (a server fault). */
  faults: string[];
}

export function newLedger(): Ledger {
  return { blobs: [], manifests: [], faults: [] };
}

export function blobSpec(seed: number, size: number): BlobSpec {
  return { seed, size, digest: sha256(seededBytes(seed, size)) };
}

export class UnexpectedStatus extends Error {
  constructor(what: string, readonly response: Response) {
    super(`${what}: ${response.status} ${response.body.toString('utf8').slice(0, 200)}`);
  }
}

function expectStatus(status: number, response: Response, what: string): Response {
  if (response.status !== status) throw new UnexpectedStatus(what, response);
  return response;
}

const withQuery = (location: string, query: string): string => `${location}${location.includes('?') ? '&' : '?'}${query}`;

/** `Range: 0-<last>` → bytes held ("0-0" is taken as empty: chunks here are never one byte). */
export function rangeOffset(header: string | string[] | undefined): number {
  const match = /^0-(\d+)$/.exec(String(header ?? ''));
  if (!match) return -1;
  const last = Number(match[1]);
  return last === 0 ? 0 : last + 1;
}

export function createPusher(baseUrl: string) {
  const client: OciClient = createClient(baseUrl, 1);
  const { send } = client;

  async function startSession(repository: string): Promise<string> {
    const res = expectStatus(202, await send('POST', `/v2/${repository}/blobs/uploads/`), 'POST upload');
    return res.headers.location as string;
  }

  /** Sends `bytes[from…]` as PATCH chunks of random sizes; `state` follows the acknowledged offset. */
  async function patchChunks(state: InFlight & { kind: 'blob' }, bytes: Buffer, from: number, end: number, rng: Rng): Promise<void> {
    let offset = from;
    while (offset < end) {
      const length = Math.min(end - offset, Math.max(1024, rng.int(1, Math.ceil(bytes.length / 2))));
      state.sending = length;
      const res = expectStatus(
        202,
        await send('PATCH', state.location as string, bytes.subarray(offset, offset + length), {
          'content-type': 'application/octet-stream',
          'content-range': `${offset}-${offset + length - 1}`,
        }),
        'PATCH',
      );
      offset += length;
      state.acked = offset;
      state.sending = undefined;
      state.location = res.headers.location as string;
    }
  }

  return {
    send,
    /** Pushes one blob in `mode`, recording progress in `state` (for resuming after a crash). */
    async pushBlob(state: InFlight & { kind: 'blob' }, mode: UploadMode, rng: Rng): Promise<void> {
      const { repository, spec } = state;
      const bytes = seededBytes(spec.seed, spec.size);
      const octets = { 'content-type': 'application/octet-stream' };
      if (mode === 'monolithic') {
        expectStatus(201, await send('POST', `/v2/${repository}/blobs/uploads/?digest=${spec.digest}`, bytes, octets), 'POST monolithic');
        return;
      }
      state.location = await startSession(repository);
      if (mode === 'post-put') {
        expectStatus(201, await send('PUT', withQuery(state.location, `digest=${spec.digest}`), bytes, octets), 'PUT blob');
        return;
      }
      const lastChunk = mode === 'chunked-last-put' ? Math.min(bytes.length, rng.int(1024, 64 * 1024)) : 0;
      await patchChunks(state, bytes, 0, bytes.length - lastChunk, rng);
      state.sending = lastChunk;
      expectStatus(201, await send('PUT', withQuery(state.location, `digest=${spec.digest}`), bytes.subarray(bytes.length - lastChunk), octets), 'PUT chunked');
    },

    /**
     * Finishes an upload that was cut off by a crash: asks the session where it stands (it must
     * be the acknowledged offset, or that plus the chunk in flight) and sends the rest.
     */
    async resumeBlob(state: InFlight & { kind: 'blob' }, rng: Rng): Promise<string | undefined> {
      const { repository, spec } = state;
      const bytes = seededBytes(spec.seed, spec.size);
      if (state.location === undefined) {
        expectStatus(201, await send('POST', `/v2/${repository}/blobs/uploads/?digest=${spec.digest}`, bytes), 'POST again');
        return undefined;
      }
      const status = await send('GET', state.location);
      if (status.status === 404) {
        // The PUT that was in flight may have completed the upload before the crash.
        const blob = await send('HEAD', `/v2/${repository}/blobs/${spec.digest}`);
        return blob.status === 200 ? undefined : `upload session lost in the crash: GET ${state.location} → 404, blob → ${blob.status}`;
      }
      if (status.status !== 204) return `upload session ${state.location} after the crash → ${status.status}`;
      const offset = rangeOffset(status.headers.range);
      const allowed = [state.acked, state.acked + (state.sending ?? 0)];
      if (!allowed.includes(offset)) return `session ${state.location} reports offset ${offset}; acknowledged ${state.acked}, in flight ${state.sending ?? 0}`;
      state.acked = offset;
      await patchChunks(state, bytes, offset, bytes.length, rng);
      expectStatus(201, await send('PUT', withQuery(state.location, `digest=${spec.digest}`)), 'PUT resumed');
      return undefined;
    },

    async pushManifest(repository: string, tag: string, bytes: Buffer): Promise<void> {
      expectStatus(201, await send('PUT', `/v2/${repository}/manifests/${tag}`, bytes, { 'content-type': manifestType }), 'PUT manifest');
    },

    /** GETs a blob and checks that its bytes hash to the digest and have the size acknowledged. */
    async verifyBlob(blob: AckedBlob): Promise<string | undefined> {
      const res = await send('GET', `/v2/${blob.repository}/blobs/${blob.digest}`);
      if (res.status !== 200) return `acknowledged blob ${blob.repository}@${blob.digest} → ${res.status}`;
      const actual = `sha256:${createHash('sha256').update(res.body).digest('hex')}`;
      if (actual !== blob.digest || res.body.length !== blob.size) {
        return `blob ${blob.repository}@${blob.digest} served ${res.body.length} bytes hashing to ${actual}`;
      }
      return undefined;
    },

    /** GETs a manifest by tag and by digest; both must return the pushed bytes. */
    async verifyManifest(manifest: AckedManifest): Promise<string | undefined> {
      for (const reference of [manifest.tag, manifest.digest]) {
        const res = await send('GET', `/v2/${manifest.repository}/manifests/${reference}`, undefined, { accept: manifestType });
        if (res.status !== 200) return `acknowledged manifest ${manifest.repository}:${reference} → ${res.status}`;
        if (!res.body.equals(manifest.bytes) || res.headers['docker-content-digest'] !== manifest.digest) {
          return `manifest ${manifest.repository}:${reference} changed (digest header ${String(res.headers['docker-content-digest'])})`;
        }
      }
      return undefined;
    },

    close: client.close,
  };
}

export type Pusher = ReturnType<typeof createPusher>;

/** An OCI image manifest over a config and layers. */
export function imageManifest(config: BlobSpec, layers: BlobSpec[], annotations: Record<string, string>): Buffer {
  const descriptor = (spec: BlobSpec, mediaType: string) => ({ mediaType, digest: spec.digest, size: spec.size });
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: manifestType,
      config: descriptor(config, 'application/vnd.oci.image.config.v1+json'),
      layers: layers.map((layer) => descriptor(layer, 'application/vnd.oci.image.layer.v1.tar')),
      annotations,
    }),
  );
}
