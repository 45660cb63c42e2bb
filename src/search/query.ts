import semver from 'semver';
import { OciError } from '../errors.js';

/** A validated search request, as `/api/v1/search` and the UI send it. */
export interface SearchRequest {
  words: string[];
  repositoryPrefix: string | undefined;
  keyword: string | undefined;
  maintainer: string | undefined;
  versionRange: semver.Range | undefined;
  includePrerelease: boolean;
  includeDeprecated: boolean;
  withVersions: boolean;
  page: number;
  limit: number;
}

const defaultPageSize = 20;
export const maxPageSize = 100;
const maxWords = 16;
const maxWordLength = 64;
const maxFilterLength = 256;
const maxPage = 10_000;

/**
 * The words of a free-text query: runs of letters and digits, lower-cased, each once. Quotes,
 * operators and brackets separate words and mean nothing more, so no input is a syntax error.
 */
export function queryWords(text: string): string[] {
  const words = text.toLowerCase().match(/[\p{L}\p{N}\p{M}]+/gu) ?? [];
  return [...new Set(words.map((word) => word.slice(0, maxWordLength)))].slice(0, maxWords);
}

function badField(field: string, problem: string): OciError {
  return new OciError('BAD_REQUEST', `${field}: ${problem}`, { detail: { field } });
}

function single(params: Record<string, unknown>, field: string): string | undefined {
  const value = params[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw badField(field, 'give it once');
  return value;
}

function text(params: Record<string, unknown>, field: string): string | undefined {
  const value = single(params, field);
  if (value !== undefined && value.length > maxFilterLength) throw badField(field, `longer than ${maxFilterLength} characters`);
  return value === '' ? undefined : value;
}

function flag(params: Record<string, unknown>, field: string): boolean {
  const value = single(params, field);
  if (value === undefined || value === '' || value === 'false') return false;
  if (value === 'true') return true;
  throw badField(field, 'must be true or false');
}

function count(params: Record<string, unknown>, field: string, fallback: number, max: number): number {
  const value = single(params, field);
  if (value === undefined || value === '') return fallback;
  if (!/^\d{1,9}$/.test(value) || Number(value) < 1) throw badField(field, 'must be a positive whole number');
  return Math.min(Number(value), max);
}

/** Reads the query string of a search; a bad filter is a 400 that names the field. */
export function parseSearchRequest(params: Record<string, unknown>): SearchRequest {
  const includePrerelease = flag(params, 'prerelease');
  const range = text(params, 'version');
  let versionRange: semver.Range | undefined;
  if (range !== undefined) {
    try {
      versionRange = new semver.Range(range, { includePrerelease });
    } catch {
      throw badField('version', 'not a semver range');
    }
  }
  const page = count(params, 'page', 1, Number.MAX_SAFE_INTEGER);
  if (page > maxPage) throw badField('page', `must be at most ${maxPage}`);
  return {
    words: queryWords(single(params, 'q') ?? ''),
    repositoryPrefix: text(params, 'repo'),
    keyword: text(params, 'keyword')?.toLowerCase(),
    maintainer: text(params, 'maintainer')?.toLowerCase(),
    versionRange,
    includePrerelease,
    includeDeprecated: flag(params, 'deprecated'),
    withVersions: flag(params, 'versions'),
    page,
    limit: count(params, 'limit', defaultPageSize, maxPageSize),
  };
}
