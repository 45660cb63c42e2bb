import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

/** One built file of the web UI, held in memory with its gzip form. */
export interface WebAsset {
  body: Buffer;
  gzip?: Buffer;
  type: string;
  etag: string;
  /** Vite puts a content hash in the names under `assets/`: those never change. */
  immutable: boolean;
}

/** The built UI: `index.html` and the files it links to, by path under the UI's root (`assets/index-1a2b.js`). */
export interface WebAssets {
  index: WebAsset;
  files: ReadonlyMap<string, WebAsset>;
}

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

const compressible = new Set(['.html', '.js', '.css', '.svg', '.json', '.txt']);

/** Where `npm run build` puts the UI: `dist/web`, found from `src/routes/ui` and from `dist/routes/ui` alike. */
export const defaultWebRoot = fileURLToPath(new URL('../../../dist/web/', import.meta.url));

function asset(file: string, path: string): WebAsset {
  const body = readFileSync(file);
  const ext = extname(file);
  const gzip = compressible.has(ext) && body.length > 512 ? gzipSync(body, { level: 9 }) : undefined;
  return {
    body,
    ...(gzip && gzip.length < body.length ? { gzip } : {}),
    type: types[ext] ?? 'application/octet-stream',
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
    immutable: path.startsWith('assets/'),
  };
}

/**
 * Reads the built UI into memory once, at start: a few hundred kB that every page load needs,
 * served without a disk read and compressed once. Undefined when there is no `index.html`
 * (the UI was never built): the server still runs and says so at `/`.
 */
export function loadWebAssets(root: string): WebAssets | undefined {
  let names: string[];
  try {
    if (!statSync(join(root, 'index.html')).isFile()) return undefined;
    names = readdirSync(root, { recursive: true, encoding: 'utf8' });
  } catch {
    return undefined;
  }
  const files = new Map<string, WebAsset>();
  for (const name of names) {
    const file = join(root, name);
    if (!statSync(file).isFile()) continue;
    const path = name.split(sep).join('/');
    files.set(path, asset(file, path));
  }
  const index = files.get('index.html') as WebAsset;
  return { index, files };
}
