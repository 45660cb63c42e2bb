import { globToRegExp } from '../auth/access.js';
import type { ChangeAction, WebhookEndpoint } from '../config/schema.js';

/** A configured receiver, ready to send to. */
export interface Endpoint {
  /** Without credentials: fetch refuses a URL that has them; they travel as Basic auth instead. */
  url: string;
  /** Scheme, host and path only: what a log line may show (no credentials, no query). */
  logUrl: string;
  /** The configured headers, names in lower case so that the ones Chartroom sets replace them rather than join them. */
  headers: Record<string, string>;
  secret: string | undefined;
  timeoutMs: number;
  accepts(action: ChangeAction, repository: string): boolean;
}

export function compileEndpoint(config: WebhookEndpoint): Endpoint {
  const url = new URL(config.url);
  const headers = Object.fromEntries(Object.entries(config.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]));
  if ((url.username !== '' || url.password !== '') && headers.authorization === undefined) {
    const user = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    headers.authorization = `Basic ${Buffer.from(user).toString('base64')}`;
  }
  url.username = '';
  url.password = '';
  const repositories = config.repositories.map(globToRegExp);
  return {
    url: url.href,
    logUrl: `${url.origin}${url.pathname}`,
    headers,
    secret: config.secret,
    timeoutMs: config.timeoutSeconds * 1000,
    accepts: (action, repository) => config.events.includes(action) && repositories.some((pattern) => pattern.test(repository)),
  };
}
