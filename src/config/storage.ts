import type { Config } from './schema.js';

/**
 * What is wrong with the storage settings beyond their schema; each message names a field and
 * never its value (they hold credentials).
 */
export function storageProblems(config: Config): string[] {
  const { driver, s3 } = config.storage;
  if (driver !== 's3') return [];
  const problems: string[] = [];
  if (s3.bucket === '') problems.push("'storage.s3.bucket' is required with storage.driver s3");
  for (const field of ['endpoint', 'publicEndpoint'] as const) {
    if (s3[field] !== '' && !isHttpUrl(s3[field])) problems.push(`'storage.s3.${field}' must be an http:// or https:// URL`);
  }
  if ((s3.accessKeyId === '') !== (s3.secretAccessKey === '')) problems.push("'storage.s3.accessKeyId' and 'storage.s3.secretAccessKey' go together");
  const combination = checkStorageCombination(config);
  if (combination) problems.push(combination);
  return problems;
}

/**
 * Blobs in S3 need a metadata store that can wait for them: the embedded SQLite store checks a
 * blob's presence inside its synchronous transactions, which only the disk store can answer.
 */
export function checkStorageCombination(config: Config): string | undefined {
  if (config.storage.driver === 's3' && config.metadata.driver !== 'postgres') {
    return "storage.driver s3 needs metadata.driver postgres (the embedded SQLite metadata store works only with blobs on disk)";
  }
  return undefined;
}

export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}
