// Hostile requests, drawn from a seeded source: mutated names, digests, tags, ranges, headers,
// manifests, chart archives, multipart forms and tokens over every route, plus crafted ones
// (path traversal, huge and deeply nested JSON, gzip bombs, malformed HTTP). Every one of them is
// a client's mistake or a valid request: none may get a 5xx.
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { chartTgz, tar } from '../../test/helpers/charts.js';
import type { Rng } from './rng.js';

export interface FuzzCase {
  /** What kind of input, for the report. */
  kind: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** Bytes written to the socket as they are (malformed HTTP), instead of method/path/headers/body. */
  raw?: Buffer;
  /** Send the body in pieces this many milliseconds apart. */
  trickleMs?: number;
  /** The request goes to the server with access control on. */
  auth?: boolean;
}

/** What the fuzzer pushed before the run, for cases that aim at things that exist. */
export interface FuzzTargets {
  repository: string;
  tag: string;
  manifestDigest: string;
  blobDigests: string[];
  chartNamespace: string;
  chartName: string;
  chartVersion: string;
  /** Open upload sessions (Location paths). */
  sessions: string[];
  /** A valid access token of the auth server. */
  token: string;
  /** A valid manifest over existing blobs, to mutate. */
  manifest: Record<string, unknown>;
}

const hex = (rng: Rng, n: number): string => rng.bytes(Math.ceil(n / 2)).toString('hex').slice(0, n);
const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

function names(rng: Rng, t: FuzzTargets): string {
  return rng.pick([
    t.repository,
    t.repository,
    `fuzz/new${rng.int(0, 50)}`,
    'FUZZ/App',
    '..',
    '%2e%2e/%2e%2e',
    'fuzz/../../etc',
    'fuzz%2fapp',
    'fuzz//app',
    'fuzz/app/',
    '_catalog',
    'a'.repeat(rng.int(200, 600)),
    Array.from({ length: 200 }, () => 'a').join('/'),
    'tëam/app',
    'fuzz/%00app',
    'fuzz/app%5c..%5c..',
    'fuzz/ app',
    '-fuzz/app',
    'fuzz/a--b__c.d',
    '',
  ]);
}

function digests(rng: Rng, t: FuzzTargets): string {
  return rng.pick([
    rng.pick(t.blobDigests),
    t.manifestDigest,
    `sha256:${hex(rng, 64)}`,
    `sha512:${hex(rng, 128)}`,
    `sha256:${hex(rng, 63)}`,
    `sha256:${hex(rng, 64).toUpperCase()}`,
    'sha256:..%2f..%2fchartroom.db',
    'sha256:../../chartroom.db',
    `md5:${hex(rng, 32)}`,
    `sha256:${'g'.repeat(64)}`,
    'sha256:',
    ':',
    `sha256:${hex(rng, 64)}%00`,
    `sha256:${'a'.repeat(5000)}`,
    `sha256+b64:${hex(rng, 64)}`,
    'sha256%3A' + hex(rng, 64),
  ]);
}

function tags(rng: Rng, t: FuzzTargets): string {
  return rng.pick([t.tag, `v${rng.int(0, 9)}`, '-bad', 'a'.repeat(129), 'v1%00', '..%2f..', 'tëg', '.hidden', 'latest', '1.0.0+build', '_x']);
}

function numbers(rng: Rng): string {
  return rng.pick(['0', '-1', '1', '2', '100', '1e3', '1.5', 'abc', '', '99999999999999999999', '9'.repeat(400), '0x10', ' 5', 'NaN', 'Infinity']);
}

function query(rng: Rng, t: FuzzTargets): string {
  const params: string[] = [];
  const keys = ['n', 'last', 'digest', 'mount', 'from', 'q', 'page', 'limit', 'version', 'repo', 'keyword', 'prerelease', 'sort', 'namespace', 'artifactType', 'scope', 'service', 'offset', 'force'];
  for (let i = rng.int(0, 4); i > 0; i--) {
    const key = rng.pick(keys);
    const value = rng.pick([numbers(rng), digests(rng, t), names(rng, t), tags(rng, t), '%', '%zz', '^1.0 || >=', '*', 'true', '"', '\\', 'a'.repeat(rng.int(1, 9000))]);
    params.push(`${key}=${value}`);
    if (rng.chance(0.1)) params.push(`${key}=${numbers(rng)}`); // repeated
  }
  return params.length > 0 ? `?${params.join('&')}` : '';
}

function paths(rng: Rng, t: FuzzTargets): string {
  const name = names(rng, t);
  const ns = rng.pick([t.chartNamespace, '', 'none', '..', '%2e%2e', 'a'.repeat(300), 'x/y/z']);
  return rng.pick([
    '/v2/',
    `/v2/${name}/blobs/${digests(rng, t)}`,
    `/v2/${name}/blobs/uploads/`,
    `/v2/${name}/blobs/uploads/${rng.pick([...t.sessions, randomUUID(), '../../chartroom.db', randomUUID().toUpperCase(), ''])}`,
    rng.pick(t.sessions),
    `/v2/${name}/manifests/${rng.chance(0.5) ? tags(rng, t) : digests(rng, t)}`,
    `/v2/${name}/tags/list`,
    `/v2/${name}/referrers/${digests(rng, t)}`,
    '/v2/_catalog',
    `/chartrepo/${ns}/index.yaml`,
    `/chartrepo/${ns}/index.json`,
    `/chartrepo/${ns}/charts/${rng.pick([`${t.chartName}-${t.chartVersion}.tgz`, `${t.chartName}-${t.chartVersion}.tgz.prov`, '..%2f..%2fchartroom.db', 'x.tgz', '-.tgz', `${t.chartName}-.tgz`])}`,
    `/api/chartrepo/${ns}/charts`,
    `/api/chartrepo/${ns}/charts/${t.chartName}`,
    `/api/chartrepo/${ns}/charts/${t.chartName}/${rng.pick([t.chartVersion, 'latest', '..', 'x'])}`,
    `/api/chartrepo/${ns}/prov`,
    '/api/v1/search',
    '/api/chartsvc/v1/charts/search',
    '/api/v1/namespaces',
    '/api/v1/charts',
    `/api/v1/charts/${name}`,
    `/api/v1/charts/${name}/versions/${rng.pick([t.chartVersion, '..', 'x'])}/${rng.pick(['readme', 'values', 'values-schema', 'nope'])}`,
    `/charts/${name}`,
    '/healthz',
    '/readyz',
    '/metrics',
    '/',
    '/ui/../../etc/passwd',
    '/%2e%2e/%2e%2e/etc/passwd',
  ]);
}

function headers(rng: Rng, t: FuzzTargets): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = rng.int(0, 3); i > 0; i--) {
    const [key, value] = rng.pick<[string, string]>([
      ['range', rng.pick(['bytes=0-', 'bytes=5-2', 'bytes=-0', 'bytes=0-1,4-5', 'bytes=99999999999999999999-', 'items=0-1', 'bytes=--1', `bytes=${numbers(rng)}-${numbers(rng)}`])],
      ['content-range', rng.pick(['0-0', '0-99', '10-5', 'bytes */*', `${numbers(rng)}-${numbers(rng)}`, '0-18446744073709551616', 'abc'])],
      ['content-type', rng.pick(['application/vnd.oci.image.manifest.v1+json', 'application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.v2+json', 'application/vnd.docker.distribution.manifest.v1+prettyjws', 'multipart/form-data', 'multipart/form-data; boundary=', 'application/json; charset=utf-16', 'text/plain', '', ';;;', 'x/'.repeat(200)])],
      ['accept', rng.pick(['*/*', 'application/vnd.oci.image.index.v1+json', '', 'text/html;q=abc', 'a/'.repeat(1000)])],
      ['authorization', rng.pick(['Bearer', 'Bearer x', `Bearer ${t.token}`, `Bearer ${t.token.slice(0, -5)}AAAAA`, 'Basic', 'Basic !!!', `Basic ${Buffer.from('fuzz').toString('base64')}`, `Basic ${Buffer.from(':').toString('base64')}`, `Basic ${Buffer.from('fuzz:wrong').toString('base64')}`, 'Digest x', 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.', 'x'.repeat(8000)])],
      ['x-forwarded-host', rng.pick(['evil.example', '', '../..', 'a'.repeat(2000)])],
      ['x-forwarded-proto', rng.pick(['https', 'gopher', ''])],
      ['if-none-match', rng.pick(['*', '"x"', 'W/"y"', ''])],
      ['accept-encoding', rng.pick(['gzip', 'br', 'identity;q=0', '*;q=0'])],
    ]);
    out[key] = value;
  }
  return out;
}

/** Replaces one value somewhere in a JSON tree with a hostile one. */
function mutateJson(rng: Rng, value: unknown, depth = 0): unknown {
  const hostile = (): unknown =>
    rng.pick<unknown>([null, 0, -1, 1e308, 2 ** 53 + 1, '', 'x'.repeat(rng.int(1, 5000)), [], {}, true, '../../etc/passwd', `sha256:${'0'.repeat(64)}`, { $ref: '#' }, [[[[]]]]]);
  if (depth > 4 || value === null || typeof value !== 'object') return hostile();
  if (Array.isArray(value)) {
    const copy = [...value];
    if (copy.length === 0 || rng.chance(0.2)) copy.push(hostile());
    else copy[rng.int(0, copy.length - 1)] = mutateJson(rng, copy[rng.int(0, copy.length - 1)], depth + 1);
    return copy;
  }
  const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  const keys = Object.keys(copy);
  const key = rng.pick(keys.length > 0 ? keys : ['x']);
  if (rng.chance(0.2)) delete copy[key];
  else if (rng.chance(0.1)) copy[rng.pick(['mediaType', 'subject', 'artifactType', 'manifests', 'annotations', 'x'])] = hostile();
  else copy[key] = mutateJson(rng, copy[key], depth + 1);
  return copy;
}

/** `depth` nested arrays (or objects) around a value: JSON that recursion chokes on. */
export function deepJson(depth: number, kind: 'array' | 'object' = 'array'): string {
  return kind === 'array' ? `${'['.repeat(depth)}1${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

function manifestBody(rng: Rng, t: FuzzTargets): Buffer {
  const choice = rng.int(0, 9);
  if (choice <= 4) return json(mutateJson(rng, t.manifest));
  if (choice === 5) return Buffer.from(`{"schemaVersion":2,"config":${deepJson(rng.int(100, 50_000), rng.pick(['array', 'object']))}}`);
  if (choice === 6) {
    const layers = Array.from({ length: rng.int(1000, 20_000) }, () => ({ mediaType: 'x', digest: `sha256:${hex(rng, 64)}`, size: 1 }));
    return json({ ...t.manifest, layers });
  }
  if (choice === 7) return Buffer.concat([Buffer.from('{"schemaVersion":2,"x":"'), rng.bytes(rng.int(1, 300)), Buffer.from('"}')]); // invalid UTF-8
  if (choice === 8) return Buffer.from(rng.pick(['', 'null', '[]', '"x"', '{', '{"schemaVersion":2}', '\ufeff{}', '{"schemaVersion":2,"schemaVersion":1}', '{"manifests":null,"mediaType":"application/vnd.oci.image.index.v1+json","schemaVersion":2}']));
  return rng.bytes(rng.int(0, 4096));
}

/** Chart archives that are wrong in one way each. */
export function chartArchives(rng: Rng): Buffer {
  const name = 'fuzzchart';
  const yaml = (extra: string): string => `apiVersion: v2\nname: ${name}\nversion: 1.0.${rng.int(0, 99)}\n${extra}`;
  const archives: (() => Buffer)[] = [
    () => chartTgz({ name, version: `1.0.${rng.int(100, 999)}` }),
    () => chartTgz({ name }).subarray(0, rng.int(1, 200)),
    () => {
      const good = Buffer.from(chartTgz({ name }));
      for (let i = 0; i < 5; i++) good[rng.int(10, good.length - 1)] = rng.int(0, 255);
      return good;
    },
    () => gzipSync(tar([{ path: '../evil/Chart.yaml', content: yaml('') }])),
    () => gzipSync(tar([{ path: '/abs/Chart.yaml', content: yaml('') }])),
    () => gzipSync(tar([{ path: `${name}/values.yaml`, content: 'a: 1' }])),
    () => gzipSync(tar([])),
    () => gzipSync(tar([{ path: `${name}/Chart.yaml`, content: yaml(`description: ${'x'.repeat(2 * 1024 * 1024)}`) }])),
    () => gzipSync(tar([{ path: `${name}/Chart.yaml`, content: `a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n${yaml('')}` }])),
    () => gzipSync(tar([{ path: `${name}/Chart.yaml`, content: rng.pick(['version: [1]\nname: {}', 'apiVersion: v2\nname: x\nversion: 1.0', ': : :', 'name: x\nversion: 1.0.0\ndependencies: "all"', `${deepJson(5000)}`, '\t\tbad']) }])),
    () => gzipSync(tar([{ path: `${name}/Chart.yaml`, content: yaml('') }, { path: `other/Chart.yaml`, content: yaml('') }])),
    () => gzipSync(tar([{ path: `${name}/Chart.yaml`, content: yaml(''), type: '5' }])),
    () => rng.bytes(rng.int(0, 2000)),
  ];
  return rng.pick(archives)();
}

function multipart(rng: Rng): { body: Buffer; contentType: string } {
  const boundary = rng.pick(['xyz', '', '-'.repeat(80), 'b'.repeat(200)]);
  const part = (field: string, filename: string | undefined, content: Buffer): Buffer =>
    Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${field}"${filename ? `; filename="${filename}"` : ''}\r\n\r\n`),
      content,
      Buffer.from('\r\n'),
    ]);
  const parts: Buffer[] = [];
  for (let i = rng.int(0, 30); i > 0; i--) {
    parts.push(part(rng.pick(['chart', 'prov', 'x', '', '"']), rng.chance(0.7) ? rng.pick(['c.tgz', '../../x', '']) : undefined, rng.chance(0.5) ? chartArchives(rng) : rng.bytes(rng.int(0, 300))));
  }
  const end = rng.chance(0.8) ? Buffer.from(`--${boundary}--\r\n`) : Buffer.alloc(0);
  return { body: Buffer.concat([...parts, end]), contentType: rng.chance(0.9) ? `multipart/form-data; boundary=${boundary}` : 'multipart/form-data' };
}

function tokenCase(rng: Rng, t: FuzzTargets): FuzzCase {
  const scope = (): string =>
    rng.pick(['repository:fuzz/app:pull,push', 'repository:../x:pull', 'repository::', 'registry:catalog:*', 'repository:fuzz/app:*', ':::', 'repository:fuzz/app:pull:push', `repository:${'a'.repeat(3000)}:pull`, '']);
  const scopes = Array.from({ length: rng.int(0, rng.chance(0.1) ? 500 : 3) }, scope);
  const auth = headers(rng, t);
  if (rng.chance(0.5)) auth.authorization = rng.pick([`Basic ${Buffer.from('fuzz:secret').toString('base64')}`, `Basic ${Buffer.from(`fuzz:${'x'.repeat(rng.int(0, 100))}`).toString('base64')}`, `Basic ${rng.bytes(20).toString('base64')}`]);
  if (rng.chance(0.5)) {
    const form = new URLSearchParams();
    for (const [key, value] of [
      ['grant_type', rng.pick(['password', 'refresh_token', 'client_credentials', ''])],
      ['service', rng.pick(['chartroom', 'other', ''])],
      ['client_id', rng.pick(['helm', ''])],
      ['username', rng.pick(['fuzz', '', 'a'.repeat(1000)])],
      ['password', rng.pick(['secret', 'wrong', ''])],
      ['refresh_token', rng.pick([t.token, 'x.y.z', ''])],
      ['scope', scopes.join(' ')],
    ] as [string, string][]) {
      if (rng.chance(0.7)) form.append(key, value);
    }
    const body = Buffer.from(rng.chance(0.9) ? form.toString() : rng.bytes(200).toString('latin1'));
    return { kind: 'token-post', method: 'POST', path: '/auth/token', headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' }, body, auth: true };
  }
  const params = new URLSearchParams();
  params.set('service', rng.pick(['chartroom', 'x', '']));
  for (const s of scopes) params.append('scope', s);
  if (rng.chance(0.3)) params.set('account', rng.pick(['fuzz', '', 'x'.repeat(500)]));
  return { kind: 'token-get', method: 'GET', path: `/auth/token?${params.toString()}`, headers: auth, auth: true };
}

/** One random case. */
export function randomCase(rng: Rng, t: FuzzTargets): FuzzCase {
  const roll = rng.int(0, 99);
  if (roll < 10) return tokenCase(rng, t);
  if (roll < 20) {
    const withToken = { authorization: `Bearer ${t.token}` };
    const c = randomCase(rng, t);
    return c.raw || c.auth ? c : { ...c, kind: `auth-${c.kind}`, headers: rng.chance(0.6) ? { ...c.headers, ...withToken } : c.headers, auth: true };
  }
  if (roll < 38) {
    const reference = rng.chance(0.6) ? tags(rng, t) : digests(rng, t);
    return { kind: 'manifest', method: rng.pick(['PUT', 'PUT', 'PUT', 'GET', 'DELETE']), path: `/v2/${names(rng, t)}/manifests/${reference}`, headers: { ...headers(rng, t), 'content-type': rng.pick(['application/vnd.oci.image.manifest.v1+json', 'application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.v2+json', 'text/plain']) }, body: manifestBody(rng, t) };
  }
  if (roll < 50) {
    const path = rng.chance(0.5) ? `/v2/${names(rng, t)}/blobs/uploads/${query(rng, t)}` : `${rng.pick(t.sessions)}${query(rng, t)}`;
    return { kind: 'upload', method: rng.pick(['POST', 'PATCH', 'PUT', 'GET', 'DELETE']), path, headers: headers(rng, t), body: rng.chance(0.7) ? rng.bytes(rng.int(0, 70_000)) : undefined };
  }
  if (roll < 62) {
    const form = rng.chance(0.5);
    const mp = multipart(rng);
    return {
      kind: form ? 'chartmuseum-multipart' : 'chartmuseum-raw',
      method: 'POST',
      path: `/api/chartrepo/${rng.pick(['fuzzns', '', 'a/b', '..', 'UPPER'])}/${rng.pick(['charts', 'charts', 'prov', 'x'])}${query(rng, t)}`,
      headers: { ...headers(rng, t), 'content-type': form ? mp.contentType : 'application/octet-stream' },
      body: form ? mp.body : chartArchives(rng),
    };
  }
  if (roll < 67) {
    // A chart pushed over OCI: a valid layout whose chart layer is one of the bad archives.
    return { kind: 'oci-chart', method: 'POST', path: `/v2/fuzz/chart/fuzzchart/blobs/uploads/?digest=${digests(rng, t)}`, headers: {}, body: chartArchives(rng) };
  }
  return { kind: 'route', method: rng.pick(['GET', 'GET', 'GET', 'HEAD', 'DELETE', 'POST', 'PUT', 'PATCH', 'OPTIONS']), path: `${paths(rng, t)}${query(rng, t)}`, headers: headers(rng, t), body: rng.chance(0.2) ? rng.bytes(rng.int(0, 2000)) : undefined };
}

/** Fixed cases that go first in every run. */
export function craftedCases(t: FuzzTargets, bomb: Buffer): FuzzCase[] {
  const raw = (kind: string, text: string): FuzzCase => ({ kind, method: '', path: '', headers: {}, raw: Buffer.from(text, 'latin1') });
  const manifestPut = (kind: string, body: Buffer, contentType = 'application/vnd.oci.image.manifest.v1+json'): FuzzCase => ({
    kind,
    method: 'PUT',
    path: `/v2/${t.repository}/manifests/crafted`,
    headers: { 'content-type': contentType },
    body,
  });
  const traversal = [
    '/v2/../../etc/passwd',
    '/v2/%2e%2e/%2e%2e/etc/passwd',
    `/v2/${t.repository}/blobs/sha256:..%2f..%2f..%2fchartroom.db`,
    `/v2/${t.repository}/blobs/uploads/..%2f..%2fchartroom.db`,
    '/chartrepo/../../chartroom.db',
    `/chartrepo/${t.chartNamespace}/charts/..%2f..%2f..%2fchartroom.db`,
    `/chartrepo/${t.chartNamespace}/charts/%252e%252e%252fchartroom.db`,
    '/api/chartrepo/../../charts',
    '/api/v1/charts/..%2f..%2f..%2fetc/passwd',
    '/charts/..%2f..%2fchartroom.db',
    '/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
    '//etc/passwd',
    '/v2/fuzz/app/blobs/uploads/%2e%2e%2f%2e%2e%2fchartroom.db',
  ].map((path): FuzzCase => ({ kind: 'traversal', method: 'GET', path, headers: {} }));
  return [
    ...traversal,
    manifestPut('huge-json', Buffer.from(`{"schemaVersion":2,"x":"${'a'.repeat(4 * 1024 * 1024)}"}`)),
    manifestPut('deep-json', Buffer.from(`{"schemaVersion":2,"annotations":{"a":${deepJson(100_000)}}}`)),
    manifestPut('deep-json', Buffer.from(`{"schemaVersion":2,"config":${deepJson(100_000, 'object')}}`)),
    manifestPut('deep-json', Buffer.from(deepJson(1_000_000))),
    manifestPut('deep-json-index', Buffer.from(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":${deepJson(200_000)}}`), 'application/vnd.oci.image.index.v1+json'),
    manifestPut('many-layers', json({ ...t.manifest, layers: Array.from({ length: 40_000 }, (_, i) => ({ mediaType: 'x', digest: `sha256:${i.toString(16).padStart(64, '0')}`, size: 1 })) })),
    { kind: 'gzip-bomb', method: 'POST', path: `/api/chartrepo/${t.chartNamespace}/charts`, headers: { 'content-type': 'application/octet-stream' }, body: bomb },
    { kind: 'slow-body', method: 'PUT', path: `/v2/${t.repository}/manifests/slow`, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }, body: json(t.manifest), trickleMs: 20 },
    { kind: 'many-headers', method: 'GET', path: '/v2/', headers: Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`x-h${i}`, 'v'])) },
    { kind: 'huge-header', method: 'GET', path: '/v2/', headers: { 'x-big': 'a'.repeat(64 * 1024) } },
    { kind: 'long-url', method: 'GET', path: `/v2/${'a/'.repeat(20_000)}tags/list`, headers: {} },
    raw('no-host', 'GET /v2/ HTTP/1.1\r\n\r\n'),
    raw('bad-request-line', 'GARBAGE\r\n\r\n'),
    raw('http-0.9', 'GET /v2/\r\n\r\n'),
    raw('smuggling', `POST /v2/${t.repository}/blobs/uploads/ HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n`),
    raw('two-lengths', `PUT /v2/${t.repository}/manifests/x HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 9\r\n\r\n{}{}`),
    raw('negative-length', `PUT /v2/${t.repository}/manifests/x HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n`),
    raw('bad-chunk', `PATCH ${t.sessions[0] ?? '/v2/x/blobs/uploads/x'} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n`),
    raw('short-body', `PUT /v2/${t.repository}/manifests/short HTTP/1.1\r\nHost: x\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\nContent-Length: 5000\r\n\r\n{"schemaVersion":2`),
    raw('header-no-colon', 'GET /v2/ HTTP/1.1\r\nHost: x\r\nbroken header\r\n\r\n'),
    raw('nul-in-path', 'GET /v2/a\0b/tags/list HTTP/1.1\r\nHost: x\r\n\r\n'),
  ];
}
