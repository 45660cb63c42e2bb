import { createHash, randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';

export interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A keep-alive HTTP client for pushing through the OCI API; cheap enough to share the machine with the server. */
export function createClient(baseUrl: string, maxSockets = 16) {
  const agent = new Agent({ keepAlive: true, maxSockets });
  const base = new URL(baseUrl);

  function send(method: string, path: string, body?: Buffer, headers: Record<string, string> = {}): Promise<Response> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          agent,
          host: base.hostname,
          port: base.port,
          method,
          path,
          headers: { ...headers, 'content-length': String(body?.length ?? 0) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  async function expect(status: number, response: Promise<Response>, what: string): Promise<Response> {
    const res = await response;
    if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status} ${res.body.toString().slice(0, 200)}`);
    return res;
  }

  /** Relative or absolute Location → path on this server. */
  const pathOf = (location: string): string => new URL(location, base).pathname + new URL(location, base).search;

  return {
    send,
    /** Session then one PUT with the whole blob: what helm does. */
    async pushBlob(repository: string, bytes: Buffer): Promise<string> {
      const digest = sha256(bytes);
      const session = await expect(202, send('POST', `/v2/${repository}/blobs/uploads/`), 'POST upload');
      const location = pathOf(session.headers.location as string);
      const separator = location.includes('?') ? '&' : '?';
      await expect(201, send('PUT', `${location}${separator}digest=${digest}`, bytes, { 'content-type': 'application/octet-stream' }), 'PUT blob');
      return digest;
    },
    /** Chunked upload: PATCHes of `chunkBytes` with Content-Range, then PUT ?digest=. */
    async pushChunked(repository: string, chunk: Buffer, chunks: number): Promise<string> {
      const hash = createHash('sha256');
      let location = pathOf((await expect(202, send('POST', `/v2/${repository}/blobs/uploads/`), 'POST upload')).headers.location as string);
      for (let i = 0; i < chunks; i++) {
        hash.update(chunk);
        const start = i * chunk.length;
        const res = await expect(
          202,
          send('PATCH', location, chunk, { 'content-type': 'application/octet-stream', 'content-range': `${start}-${start + chunk.length - 1}` }),
          'PATCH',
        );
        location = pathOf(res.headers.location as string);
      }
      const digest = `sha256:${hash.digest('hex')}`;
      const separator = location.includes('?') ? '&' : '?';
      await expect(201, send('PUT', `${location}${separator}digest=${digest}`), 'PUT chunked');
      return digest;
    },
    async pushManifest(repository: string, reference: string, manifest: Buffer, mediaType: string): Promise<void> {
      await expect(201, send('PUT', `/v2/${repository}/manifests/${reference}`, manifest, { 'content-type': mediaType }), 'PUT manifest');
    },
    close(): void {
      agent.destroy();
    },
  };
}

export type OciClient = ReturnType<typeof createClient>;

export function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** A generic OCI artifact (not a chart: its tags may be anything): a small config, a layer, the manifest. */
export interface Artifact {
  config: Buffer;
  layer: Buffer;
  manifest: Buffer;
}

export const manifestType = 'application/vnd.oci.image.manifest.v1+json';

export function makeArtifact(name: string, version: string, layerBytes = 4096): Artifact {
  const config = Buffer.from(JSON.stringify({ name, version, apiVersion: 'v2', description: `bench chart ${name}` }));
  const layer = randomBytes(layerBytes);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(layer), size: layer.length }],
      annotations: { 'org.opencontainers.image.title': name, 'org.opencontainers.image.version': version },
    }),
  );
  return { config, layer, manifest };
}

export async function pushArtifact(client: OciClient, repository: string, tag: string, artifact: Artifact): Promise<void> {
  await client.pushBlob(repository, artifact.config);
  await client.pushBlob(repository, artifact.layer);
  await client.pushManifest(repository, tag, artifact.manifest, manifestType);
}
