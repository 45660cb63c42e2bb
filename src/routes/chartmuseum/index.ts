import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { OciError } from '../../errors.js';
import type { StagedUpload } from '../../registry/chart-upload.js';
import type { Registry } from '../../registry/index.js';
import { repositoryAccess } from '../../auth/access.js';
import type { Authorizer } from '../../auth/authorizer.js';
import { authorize, authRequest } from '../access.js';
import { changeSource } from '../change-source.js';
import { wholeNumberParam } from '../query.js';

export interface ChartMuseumOptions {
  registry: Registry;
  authorizer: Authorizer;
  /** Largest chart or provenance file accepted. */
  maxUploadBytes: number;
}

const provenanceBytes = 1024 * 1024;

/**
 * ChartMuseum's API, so CI jobs and the cm-push plugin keep working: `/api/chartrepo/<namespace>/charts`
 * (POST a .tgz as the raw body or multipart `chart`/`prov`; GET the list; GET/HEAD/DELETE one
 * chart or version) and `/api/chartrepo/<namespace>/prov`.
 */
export async function chartMuseumRoutes(app: FastifyInstance, options: ChartMuseumOptions): Promise<void> {
  const { chartUploads } = options.registry;
  // A raw upload is the chart itself whatever its Content-Type (curl sends form-urlencoded).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));
  await app.register(multipart, { limits: { fileSize: options.maxUploadBytes, files: 2, fields: 16, parts: 24 } });

  const { authorizer } = options;

  /** The form's `chart` and `prov` files; a form that breaks off or is malformed is the client's mistake. */
  async function readParts(request: FastifyRequest, upload: StagedUpload, maxUploadBytes: number): Promise<void> {
    try {
      for await (const part of request.parts()) {
        if (part.type !== 'file') continue;
        if (part.fieldname === 'chart' && !upload.chart) upload.chart = await chartUploads.store(part.file, maxUploadBytes);
        else if (part.fieldname === 'prov' && !upload.prov) upload.prov = await chartUploads.store(part.file, provenanceBytes);
        else part.file.resume();
      }
    } catch (err) {
      // Errors of our own (a full disk, a refused size) and of the framework (with a status) stand;
      // the multipart parser's are plain errors about the body.
      if (err instanceof OciError || 'statusCode' in (err as object) || 'errno' in (err as object)) throw err;
      throw new OciError('BAD_REQUEST', `malformed multipart body: ${(err as Error).message.slice(0, 100)}`);
    }
  }
  const config = { errorFormat: 'chartmuseum' as const, access: 'delegated' as const };
  const repositoryOf = (namespace: string, name: string): string => (namespace === '' ? name : `${namespace}/${name}`);

  app.route({
    method: 'POST',
    url: '/api/chartrepo/*',
    config,
    handler: async (request, reply) => {
      const match = /^(?:(.+)\/)?(charts|prov)$/.exec((request.params as { '*': string })['*']);
      if (!match) throw new OciError('NOT_FOUND', 'not found');
      const namespace = match[1] ?? '';
      // Who is asking is settled before any byte is stored; whether they may push, once the chart names its repository.
      const grant = await authorize(authorizer, request, [], 'basic');
      const mayPush = async (repository: string): Promise<void> => {
        if (grant.may(repository, 'push')) return;
        if (grant.identity.kind === 'anonymous') throw authorizer.challenge(authRequest(request), 'basic', [repositoryAccess(repository, 'push')]);
        throw new OciError('DENIED', `no push access to ${repository}`);
      };
      const upload: StagedUpload = {};
      try {
        if (request.isMultipart()) {
          await readParts(request, upload, options.maxUploadBytes);
        } else if (match[2] === 'prov') {
          upload.prov = await chartUploads.store(request.raw, provenanceBytes);
        } else {
          upload.chart = await chartUploads.store(request.raw, options.maxUploadBytes);
        }
        await chartUploads.publish(namespace, upload, mayPush, changeSource(request, grant.identity));
      } finally {
        await chartUploads.discard(upload);
      }
      return reply.code(201).send({ saved: true });
    },
  });

  app.route({
    method: ['GET', 'HEAD', 'DELETE'],
    url: '/api/chartrepo/*',
    config,
    handler: async (request, reply) => {
      const path = (request.params as { '*': string })['*'];
      const one = /^(?:(.+)\/)?charts\/([^/]+)\/([^/]+)$/.exec(path);
      if (one) {
        const [, namespace = '', name = '', version = ''] = one;
        const action = request.method === 'DELETE' ? 'delete' : 'pull';
        const grant = await authorize(authorizer, request, [repositoryAccess(repositoryOf(namespace, name), action)], 'basic');
        if (request.method === 'DELETE') {
          await chartUploads.remove(namespace, name, version, changeSource(request, grant.identity));
          return reply.send({ deleted: true });
        }
        return reply.send(await chartUploads.version(namespace, name, version));
      }
      if (request.method === 'DELETE') throw new OciError('UNSUPPORTED', 'DELETE takes a chart version', { status: 405 });
      const chart = /^(?:(.+)\/)?charts\/([^/]+)$/.exec(path);
      if (chart) {
        await authorize(authorizer, request, [repositoryAccess(repositoryOf(chart[1] ?? '', chart[2] as string), 'pull')], 'basic');
        return reply.send(await chartUploads.versions(chart[1] ?? '', chart[2] as string));
      }
      const list = /^(?:(.+)\/)?charts$/.exec(path);
      if (!list) throw new OciError('NOT_FOUND', 'not found');
      const grant = await authorize(authorizer, request, [], 'basic');
      const offset = wholeNumberParam(request, 'offset', false) ?? 0;
      return reply.send(await chartUploads.list(list[1] ?? '', offset, wholeNumberParam(request, 'limit', true), (r) => grant.may(r, 'pull')));
    },
  });
}
