import { authorization } from './session';
import type { ChartDetail, ChartSummary, Me, NamespaceCount, SearchResponse, VersionDetail } from './types';

/** A non-2xx answer of the JSON API, with the message of its error body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** `team/app` as path segments, each encoded. */
export function repositoryPath(repository: string): string {
  return repository.split('/').map(encodeURIComponent).join('/');
}

async function errorMessage(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as { errors?: { message?: string }[] };
    return body.errors?.[0]?.message ?? response.statusText;
  } catch {
    return response.statusText;
  }
}

/** GET from the API, as the signed-in user when there is one; `repository` names what a chart's page reads. */
async function get(path: string, signal: AbortSignal | undefined, repository?: string): Promise<Response> {
  const auth = await authorization(repository ? `repository:${repository}:pull` : '');
  const headers: Record<string, string> = { 'x-requested-with': 'XMLHttpRequest' };
  if (auth) headers.authorization = auth;
  const response = await fetch(path, { headers, ...(signal ? { signal } : {}) });
  if (!response.ok) throw new ApiError(response.status, await errorMessage(response));
  return response;
}

const json = async <T>(path: string, signal?: AbortSignal, repository?: string): Promise<T> => (await (await get(path, signal, repository)).json()) as T;

const chartPath = (repository: string): string => `/api/v1/charts/${repositoryPath(repository)}`;
const versionPath = (repository: string, version: string): string => `${chartPath(repository)}/versions/${encodeURIComponent(version)}`;

export type ChartFile = 'readme' | 'values' | 'values-schema';
export type Sort = 'name' | 'updated';

export const api = {
  me: (signal?: AbortSignal) => json<Me>('/api/v1/me', signal),
  namespaces: async (signal?: AbortSignal) => (await json<{ namespaces: NamespaceCount[] }>('/api/v1/namespaces', signal)).namespaces,
  charts: (namespace: string | undefined, sort: Sort, offset: number, limit: number, signal?: AbortSignal) => {
    const query = new URLSearchParams({ sort, offset: String(offset), limit: String(limit), ...(namespace !== undefined ? { namespace } : {}) });
    return json<{ total: number; charts: ChartSummary[] }>(`/api/v1/charts?${query}`, signal);
  },
  search: (q: string, page: number, limit: number, signal?: AbortSignal) =>
    json<SearchResponse>(`/api/v1/search?${new URLSearchParams({ q, page: String(page), limit: String(limit) })}`, signal),
  chart: (repository: string, signal?: AbortSignal) => json<ChartDetail>(chartPath(repository), signal, repository),
  version: (repository: string, version: string, signal?: AbortSignal) => json<VersionDetail>(versionPath(repository, version), signal, repository),
  file: async (repository: string, version: string, which: ChartFile, signal?: AbortSignal) =>
    (await get(`${versionPath(repository, version)}/${which}`, signal, repository)).text(),
};
