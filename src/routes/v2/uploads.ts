import type { FastifyReply } from 'fastify';
import { repositoryAccess } from '../../auth/access.js';
import { OciError } from '../../errors.js';
import type { ChunkRange } from '../../registry/uploads.js';
import type { V2ResourceFactory } from './types.js';
import { header, queryParam, requestBody } from './request.js';

/** `Content-Range: <start>-<end>` (the spec's form), also tolerating a `bytes ` prefix and `/<total>`. */
export function parseContentRange(value: string | undefined): ChunkRange | undefined {
  if (value === undefined) return undefined;
  const match = /^(?:bytes[ =])?(\d{1,15})-(\d{1,15})(?:\/(?:\d+|\*))?$/.exec(value.trim());
  if (!match) throw new OciError('BLOB_UPLOAD_INVALID', 'malformed Content-Range', { status: 416 });
  return { start: Number(match[1]), end: Number(match[2]) };
}

const push = (name: string) => repositoryAccess(name, 'pull', 'push');

/** `Range: 0-<last byte>`, the form distribution uses ("0-0" for an empty upload). */
function rangeOf(offset: number): string {
  return `0-${Math.max(0, offset - 1)}`;
}

function sessionReply(reply: FastifyReply, name: string, id: string, offset: number, status: number): FastifyReply {
  return reply
    .code(status)
    .headers({
      location: `/v2/${name}/blobs/uploads/${id}`,
      range: rangeOf(offset),
      'docker-upload-uuid': id,
      'content-length': 0,
    })
    .send();
}

function createdReply(reply: FastifyReply, name: string, digest: string): FastifyReply {
  return reply
    .code(201)
    .headers({ location: `/v2/${name}/blobs/${digest}`, 'docker-content-digest': digest, 'content-length': 0 })
    .send();
}

export const uploadsResource: V2ResourceFactory = ({ uploads }) => ({
  pattern: /^\/v2\/(.+)\/blobs\/uploads\/([^/]*)$/,
  route: '/v2/<name>/blobs/uploads/<id>',
  operations: {
    POST: {
      // A mount also reads the source repository; without that right the upload simply starts a session.
      access: ([name = ''], request) => {
        const from = queryParam(request, 'from');
        return { required: [push(name)], optional: from && queryParam(request, 'mount') ? [repositoryAccess(from, 'pull')] : [] };
      },
      async handle(request, reply, [name = '', id = ''], grant) {
      if (id !== '') throw new OciError('UNSUPPORTED', 'POST goes to /blobs/uploads/');
      const from = queryParam(request, 'from');
      const result = await uploads.start(
        name,
        {
          digest: queryParam(request, 'digest'),
          mount: queryParam(request, 'mount'),
          from: from !== undefined && grant.covers(repositoryAccess(from, 'pull')) ? from : undefined,
        },
        requestBody(request),
      );
      return result.kind === 'created'
        ? createdReply(reply, name, result.digest)
        : sessionReply(reply, name, result.id, result.offset, 202);
      },
    },
    PATCH: {
      access: ([name = '']) => ({ required: [push(name)] }),
      async handle(request, reply, [name = '', id = '']) {
        const range = parseContentRange(header(request, 'content-range'));
        const offset = await uploads.append(name, id, requestBody(request), range);
        return sessionReply(reply, name, id, offset, 202);
      },
    },
    PUT: {
      access: ([name = '']) => ({ required: [push(name)] }),
      async handle(request, reply, [name = '', id = '']) {
        const digest = await uploads.complete(name, id, queryParam(request, 'digest'), requestBody(request));
        return createdReply(reply, name, digest);
      },
    },
    GET: {
      access: ([name = '']) => ({ required: [push(name)] }),
      async handle(_request, reply, [name = '', id = '']) {
        const offset = await uploads.status(name, id);
        return sessionReply(reply, name, id, offset, 204);
      },
    },
    DELETE: {
      access: ([name = '']) => ({ required: [push(name)] }),
      async handle(_request, reply, [name = '', id = '']) {
        await uploads.cancel(name, id);
        return reply.code(204).send();
      },
    },
  },
});
