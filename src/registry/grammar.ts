import { OciError } from '../errors.js';

// The OCI Distribution Spec's grammar for names, tags and digests.
const pathComponent = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const namePattern = new RegExp(`^${pathComponent}(?:/${pathComponent})*$`);
const tagPattern = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const digestPattern = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const uploadIdPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Registered algorithms and the exact length of their lowercase hex encoding. */
const algorithms: Record<string, number> = { sha256: 64, sha512: 128 };

/** Names longer than this fail on many clients (the spec's 255 characters include the host). */
export const maxNameLength = 255;

export function isValidName(name: string): boolean {
  return name.length <= maxNameLength && namePattern.test(name);
}

export function checkName(name: string): string {
  if (!isValidName(name)) throw new OciError('NAME_INVALID', `invalid repository name: ${truncate(name)}`);
  return name;
}

export function isValidTag(tag: string): boolean {
  return tagPattern.test(tag);
}

export function looksLikeDigest(reference: string): boolean {
  return reference.includes(':');
}

/** Returns the digest when it is well-formed and of a supported algorithm; throws DIGEST_INVALID otherwise. */
export function checkDigest(digest: string): string {
  if (!digestPattern.test(digest)) throw new OciError('DIGEST_INVALID', `invalid digest: ${truncate(digest)}`);
  const [algorithm, encoded] = digest.split(':') as [string, string];
  const length = algorithms[algorithm];
  if (length === undefined) {
    throw new OciError('DIGEST_INVALID', `unsupported digest algorithm: ${truncate(algorithm)}`);
  }
  if (encoded.length !== length || !/^[a-f0-9]+$/.test(encoded)) {
    throw new OciError('DIGEST_INVALID', `invalid ${algorithm} digest: ${truncate(digest)}`);
  }
  return digest;
}

export function isValidDigest(digest: string): boolean {
  try {
    checkDigest(digest);
    return true;
  } catch {
    return false;
  }
}

export function checkUploadId(id: string): string {
  if (!uploadIdPattern.test(id)) throw new OciError('BLOB_UPLOAD_UNKNOWN', 'unknown upload session');
  return id;
}

export type Reference = { tag: string } | { digest: string };

/** A manifest reference is a digest when it holds a colon, a tag otherwise. */
export function parseReference(reference: string): Reference {
  if (looksLikeDigest(reference)) return { digest: checkDigest(reference) };
  if (!isValidTag(reference)) throw new OciError('TAG_INVALID', `invalid tag: ${truncate(reference)}`);
  return { tag: reference };
}

/** Keeps hostile input out of messages and logs at a readable length. */
export function truncate(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
