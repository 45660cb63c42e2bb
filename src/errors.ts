/**
 * The one table of registry error codes. Status codes follow the OCI Distribution Spec's
 * per-endpoint sections; where it names none, distribution's `registry/api/errcode` table.
 */
export const errorCodes = {
  BLOB_UNKNOWN: { status: 404, message: 'blob unknown to registry' },
  BLOB_UPLOAD_INVALID: { status: 400, message: 'blob upload invalid' },
  BLOB_UPLOAD_UNKNOWN: { status: 404, message: 'blob upload unknown to registry' },
  DIGEST_INVALID: { status: 400, message: 'provided digest did not match uploaded content' },
  MANIFEST_BLOB_UNKNOWN: { status: 400, message: 'manifest references a manifest or blob unknown to registry' },
  MANIFEST_INVALID: { status: 400, message: 'manifest invalid' },
  MANIFEST_UNKNOWN: { status: 404, message: 'manifest unknown to registry' },
  NAME_INVALID: { status: 400, message: 'invalid repository name' },
  NAME_UNKNOWN: { status: 404, message: 'repository name not known to registry' },
  SIZE_INVALID: { status: 400, message: 'provided length did not match content length' },
  TAG_INVALID: { status: 400, message: 'invalid tag' },
  RANGE_INVALID: { status: 416, message: 'requested range not satisfiable' },
  PAGINATION_NUMBER_INVALID: { status: 400, message: 'invalid number of results requested' },
  UNAUTHORIZED: { status: 401, message: 'authentication required' },
  DENIED: { status: 403, message: 'requested access to the resource is denied' },
  UNSUPPORTED: { status: 405, message: 'the operation is unsupported' },
  NOT_FOUND: { status: 404, message: 'not found' },
  TOOMANYREQUESTS: { status: 429, message: 'too many requests' },
  BAD_REQUEST: { status: 400, message: 'bad request' },
  UNKNOWN: { status: 500, message: 'unknown error' },
  UNAVAILABLE: { status: 503, message: 'service unavailable' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof errorCodes;

export interface ErrorBody {
  errors: { code: ErrorCode; message: string; detail?: unknown }[];
}

/** A client-facing error: its code picks the status unless the caller names another one. */
export class OciError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail: unknown;
  readonly headers: Record<string, string>;

  constructor(
    code: ErrorCode,
    message?: string,
    options: { detail?: unknown; status?: number; headers?: Record<string, string> } = {},
  ) {
    super(message ?? errorCodes[code].message);
    this.name = 'OciError';
    this.code = code;
    this.status = options.status ?? errorCodes[code].status;
    this.detail = options.detail;
    this.headers = options.headers ?? {};
  }

  toBody(): ErrorBody {
    const entry: ErrorBody['errors'][number] = { code: this.code, message: this.message };
    if (this.detail !== undefined) entry.detail = this.detail;
    return { errors: [entry] };
  }
}

export function isOciError(err: unknown): err is OciError {
  return err instanceof OciError;
}
