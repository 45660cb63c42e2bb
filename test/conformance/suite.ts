/**
 * A TypeScript port of the OCI distribution-spec conformance suite, v1.1.1
 * (the `conformance/` folder with 01_pull / 02_push / 03_discovery /
 * 04_management test files).
 *
 * Every spec of the original is reproduced in its original order, with the
 * same requests, the same accepted status codes and the same header checks,
 * so that a run against a registry can be compared line by line with a run
 * of the Go suite. Spec names are the Ginkgo "full text": the container
 * texts and the spec text joined by single spaces, exactly as the original
 * writes them into its JUnit report.
 *
 * Behaviour of the Go HTTP stack that a registry can observe is mirrored on
 * purpose (see `RegistryClient`): bodies are sent with chunked transfer
 * encoding, query parameters are encoded and ordered the way Go encodes
 * them, `Location` headers are reduced to path + query and re-rooted on the
 * configured root URL, redirects are followed, and a 401 is retried once
 * with Basic or Bearer credentials.
 */
import { createHash, randomBytes, randomInt, randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';

// ---------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------

export type CategoryKey = 'pull' | 'push' | 'contentDiscovery' | 'contentManagement';
export type CategoryTitle = 'Pull' | 'Push' | 'Content Discovery' | 'Content Management';
export type Outcome = 'passed' | 'failed' | 'skipped';

export interface ConformanceResult {
  category: CategoryTitle;
  /** Ginkgo full text, e.g. "OCI Distribution Conformance Tests Pull Setup Populate registry with test blob". */
  name: string;
  /** True only when the spec ran and all its expectations held. */
  passed: boolean;
  /** Present and true when the spec was skipped (category disabled or a RunOnlyIf guard). */
  skipped?: boolean;
  /** Failure message, or the skip reason for skipped specs. */
  error?: string;
  outcome: Outcome;
  /** Messages the original prints with Warn() (non-fatal). */
  warnings?: string[];
  durationMs: number;
}

export interface ConformanceOptions {
  /** OCI_ROOT_URL, e.g. "http://127.0.0.1:5000". */
  rootUrl: string;
  /** OCI_NAMESPACE, e.g. "myorg/myrepo". */
  namespace: string;
  /** OCI_CROSSMOUNT_NAMESPACE; empty means "conformance-<uuid>" like the original. */
  crossmountNamespace: string;
  /** OCI_TEST_PULL / _PUSH / _CONTENT_DISCOVERY / _CONTENT_MANAGEMENT. Unset keys default to on. */
  categories?: Partial<Record<CategoryKey, boolean>>;
  /** OCI_USERNAME / OCI_PASSWORD, only sent after a 401 challenge (as reggie does). */
  username?: string;
  password?: string;
  /** OCI_AUTH_SCOPE: overrides the scope of the Bearer challenge. */
  authScope?: string;
  /** OCI_DELETE_MANIFEST_BEFORE_BLOBS; default true. */
  deleteManifestBeforeBlobs?: boolean;
  /**
   * OCI_AUTOMATIC_CROSSMOUNT. `undefined` means the variable is not set, which
   * skips both automatic cross-mount specs; otherwise it says which one runs.
   */
  automaticCrossmount?: boolean;
  /** OCI_TAG_NAME, OCI_MANIFEST_DIGEST, OCI_BLOB_DIGEST: all three set disables the pull setup. */
  tagName?: string;
  manifestDigest?: string;
  blobDigest?: string;
  /** OCI_TAG_LIST (comma separated): when set, disables the content-discovery setup. */
  tagList?: string;
  /** OCI_DEBUG: receives one line per request / response. */
  log?: (line: string) => void;
  /**
   * How request bodies are framed. "chunked" (default) is what the Go suite
   * puts on the wire; "content-length" sends an exact Content-Length instead.
   */
  bodyTransfer?: 'chunked' | 'content-length';
  /** Per-request timeout; the Go client has none, we fail a spec instead of hanging. */
  requestTimeoutMs?: number;
  /** Called after each spec, in order; lets a runner print progress. */
  onResult?: (result: ConformanceResult) => void;
}

// ---------------------------------------------------------------------------
// Constants taken from the original suite
// ---------------------------------------------------------------------------

const SUITE_DESCRIPTION = 'OCI Distribution Conformance Tests';
const USER_AGENT = 'distribution-spec-conformance-tests';
const EMPTY_LAYER_TEST_TAG = 'emptylayer';
const TEST_TAG_NAME = 'tagtest0';
const NONEXISTENT_MANIFEST = '.INVALID_MANIFEST_NAME';
const INVALID_MANIFEST_CONTENT = Buffer.from('blablabla');
const ARTIFACT_TYPE_FILTER = 'artifactType';
const EMPTY_JSON_DIGEST = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';
const MT_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const MT_INDEX = 'application/vnd.oci.image.index.v1+json';
const MT_CONFIG = 'application/vnd.oci.image.config.v1+json';
const MT_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
const MT_EMPTY = 'application/vnd.oci.empty.v1+json';
const OCTET = 'application/octet-stream';

/** A tiny tar.gz holding one text file; the same bytes as the original's layer. */
const LAYER_BASE64 =
  'H4sIAAAAAAAAA+3OQQrCMBCF4a49xXgBSUnaHMCTRBptQRNpp6i3t0UEV7oqIv7fYgbmzeJpHHSjVy0' +
  'WZCa1c/MufWVe94N3RWlrZ72x3k/30nhbFWKWLPU0Dhp6keJ8im//PuU/6pZH2WVtYx8b0Sz7LjWSR5VLG6YRBumSzOlGtjkd+qD' +
  'jMWiX07Befbs7AAAAAAAAAAAAAAAAAPyzO34MnqoAKAAA';

/**
 * The original builds its error-code list as a Go slice indexed by constants
 * that start at 5 (they share an iota block with the workflow bit flags), so
 * the slice begins with five empty strings. An error whose code is missing
 * therefore still "contains" a valid code; we keep that quirk.
 */
const ERROR_CODES: readonly string[] = [
  '', '', '', '', '',
  'BLOB_UNKNOWN', 'BLOB_UPLOAD_INVALID', 'BLOB_UPLOAD_UNKNOWN', 'DIGEST_INVALID',
  'MANIFEST_BLOB_UNKNOWN', 'MANIFEST_INVALID', 'MANIFEST_UNKNOWN', 'MANIFEST_UNVERIFIED',
  'NAME_INVALID', 'NAME_UNKNOWN', 'SIZE_INVALID', 'TAG_INVALID', 'UNAUTHORIZED', 'DENIED',
  'UNSUPPORTED',
];

const CATEGORY_TITLES: Record<CategoryKey, CategoryTitle> = {
  pull: 'Pull',
  push: 'Push',
  contentDiscovery: 'Content Discovery',
  contentManagement: 'Content Management',
};

// ---------------------------------------------------------------------------
// Small utilities
// ---------------------------------------------------------------------------

function sha256Digest(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Go's `[]byte` JSON encoding: standard base64 with padding. */
function b64(data: Buffer): string {
  return data.toString('base64');
}

/** Mirrors Go's `json.MarshalIndent(v, "", "\t")` for the plain data used here. */
function goJson(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value, null, '\t'));
}

/** Mirrors Go's crypto/rand based randomString from setup.go (same alphabet). */
function randomString(n: number): string {
  const letters = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-';
  let out = '';
  for (let i = 0; i < n; i++) out += letters.charAt(randomInt(letters.length));
  return out;
}

/** Go panics on an out-of-range index; inside a spec that is a failure. */
function at<T>(list: readonly T[], index: number, what: string): T {
  const value = index >= 0 && index < list.length ? list[index] : undefined;
  if (value === undefined) {
    throw new Error(`runtime error: index out of range [${index}] with length ${list.length} (${what})`);
  }
  return value;
}

/** Go's strconv.ParseBool; anything else is an error, which the original treats as false. */
export function parseGoBool(value: string | undefined): boolean {
  return value !== undefined && ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value);
}

/** url.QueryEscape: unreserved bytes stay, space becomes '+', the rest is %XX. */
function goQueryEscape(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const ch = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(ch)) out += ch;
    else if (ch === ' ') out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** url.Values.Encode: keys sorted, "k=v" pairs joined with '&'. */
function goEncodeQuery(params: ReadonlyMap<string, string>): string {
  return [...params.keys()]
    .sort()
    .map((k) => `${goQueryEscape(k)}=${goQueryEscape(params.get(k) ?? '')}`)
    .join('&');
}

function truncate(text: string, max = 300): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

// ---------------------------------------------------------------------------
// Go-flavoured JSON decoding (just what the assertions need)
// ---------------------------------------------------------------------------

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

class JsonDecodeError extends Error {}

function isObject(v: Json | undefined): v is { [key: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** encoding/json matches object keys to struct fields case-insensitively; the last match wins. */
function goField(obj: { [key: string]: Json }, field: string): Json | undefined {
  let found: Json | undefined;
  for (const [key, value] of Object.entries(obj)) {
    if (key.toLowerCase() === field.toLowerCase()) found = value;
  }
  return found;
}

function parseJson(body: Buffer): Json {
  try {
    return JSON.parse(body.toString('utf8')) as Json;
  } catch (err) {
    throw new JsonDecodeError(`invalid JSON: ${(err as Error).message}`);
  }
}

/** A JSON value that Go would decode into a struct: an object, or null (zero value). */
function goStruct(value: Json | undefined, what: string): { [key: string]: Json } {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) throw new JsonDecodeError(`cannot unmarshal ${typeName(value)} into ${what}`);
  return value;
}

function goString(value: Json | undefined, what: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw new JsonDecodeError(`cannot unmarshal ${typeName(value)} into string (${what})`);
  return value;
}

function goArray(value: Json | undefined, what: string): Json[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new JsonDecodeError(`cannot unmarshal ${typeName(value)} into slice (${what})`);
  return value;
}

function goStringMap(value: Json | undefined, what: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(goStruct(value, what))) out.set(k, goString(v, `${what}.${k}`));
  return out;
}

function typeName(value: Json): string {
  if (Array.isArray(value)) return 'array';
  return value === null ? 'null' : typeof value;
}

interface TagListDoc {
  tags: string[];
}

function decodeTagList(body: Buffer): TagListDoc {
  const doc = goStruct(parseJson(body), 'TagList');
  goString(goField(doc, 'name'), 'name');
  const tags = goArray(goField(doc, 'tags'), 'tags').map((t, i) => goString(t, `tags[${i}]`));
  return { tags };
}

interface ErrorInfo {
  code: string;
}

/** reggie's Response.Errors(): fails on bad JSON and on an empty "errors" array. */
function decodeErrors(body: Buffer): ErrorInfo[] {
  const doc = goStruct(parseJson(body), 'ErrorResponse');
  const list = goArray(goField(doc, 'errors'), 'errors').map((e, i) => {
    const info = goStruct(e, `errors[${i}]`);
    goString(goField(info, 'message'), `errors[${i}].message`);
    return { code: goString(goField(info, 'code'), `errors[${i}].code`) };
  });
  if (list.length === 0) throw new JsonDecodeError('body was valid json but could not be parsed');
  return list;
}

interface IndexDescriptor {
  digest: string;
  annotations: Map<string, string>;
}

const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function checkGoBytes(value: Json | undefined, what: string): void {
  const text = goString(value, what).replace(/[\r\n]/g, '');
  if (!BASE64_RE.test(text)) throw new JsonDecodeError(`illegal base64 data in ${what}`);
}

function checkGoInt(value: Json | undefined, what: string): void {
  if (value === undefined || value === null) return;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new JsonDecodeError(`cannot unmarshal ${JSON.stringify(value)} into int64 (${what})`);
  }
}

/** Decodes one descriptor the way the original's `descriptor` struct would. */
function decodeDescriptor(value: Json, what: string): IndexDescriptor {
  const d = goStruct(value, what);
  goString(goField(d, 'mediaType'), `${what}.mediaType`);
  goString(goField(d, 'artifactType'), `${what}.artifactType`);
  checkGoInt(goField(d, 'size'), `${what}.size`);
  goArray(goField(d, 'urls'), `${what}.urls`).forEach((u, i) => goString(u, `${what}.urls[${i}]`));
  checkGoBytes(goField(d, 'data'), `${what}.data`);
  checkGoBytes(goField(d, 'newUnspecifiedField'), `${what}.newUnspecifiedField`);
  goStruct(goField(d, 'platform'), `${what}.platform`);
  return {
    digest: goString(goField(d, 'digest'), `${what}.digest`),
    annotations: goStringMap(goField(d, 'annotations'), `${what}.annotations`),
  };
}

function decodeIndex(body: Buffer): IndexDescriptor[] {
  const doc = goStruct(parseJson(body), 'index');
  checkGoInt(goField(doc, 'schemaVersion'), 'schemaVersion');
  goString(goField(doc, 'mediaType'), 'mediaType');
  goString(goField(doc, 'artifactType'), 'artifactType');
  goStringMap(goField(doc, 'annotations'), 'annotations');
  return goArray(goField(doc, 'manifests'), 'manifests').map((m, i) => decodeDescriptor(m, `manifests[${i}]`));
}

// ---------------------------------------------------------------------------
// HTTP client mirroring reggie + resty + net/http
// ---------------------------------------------------------------------------

interface PathParams {
  name?: string;
  reference?: string;
  digest?: string;
}

class RequestInvalidError extends Error {}

/** A request under construction, like reggie.Request. */
class OciRequest {
  readonly headers = new Map<string, { name: string; value: string }>();
  readonly query = new Map<string, string>();
  body: Buffer | undefined;

  constructor(
    readonly method: string,
    readonly url: string,
  ) {}

  setHeader(name: string, value: string): this {
    this.headers.set(name.toLowerCase(), { name, value });
    return this;
  }

  setQueryParam(name: string, value: string): this {
    this.query.set(name, value);
    return this;
  }

  setBody(body: Buffer): this {
    this.body = body;
    return this;
  }

  header(name: string): string | undefined {
    return this.headers.get(name.toLowerCase())?.value;
  }

  /** resty appends its encoded query parameters after any query already in the URL. */
  finalUrl(): string {
    if (this.query.size === 0) return this.url;
    const encoded = goEncodeQuery(this.query);
    const hashless = this.url.split('#')[0] ?? this.url;
    return hashless.includes('?') && !hashless.endsWith('?') ? `${hashless}&${encoded}` : `${hashless.replace(/\?$/, '')}?${encoded}`;
  }
}

/** A received response, like reggie.Response. */
class OciResponse {
  constructor(
    readonly status: number,
    private readonly rawHeaders: readonly string[],
    readonly body: Buffer,
  ) {}

  /** Go's Header.Get: the first value of the header, or "". */
  header(name: string): string {
    const wanted = name.toLowerCase();
    for (let i = 0; i + 1 < this.rawHeaders.length; i += 2) {
      if (this.rawHeaders[i]?.toLowerCase() === wanted) return this.rawHeaders[i + 1] ?? '';
    }
    return '';
  }

  text(): string {
    return this.body.toString('utf8');
  }

  /** reggie GetRelativeLocation: path (and raw query) of the Location header; host is dropped. */
  relativeLocation(): string {
    const loc = this.header('Location');
    if (loc === '') return '';
    try {
      const parsed = new URL(loc, 'http://relative.invalid');
      const isRelativePath = !/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(loc) && !loc.startsWith('/');
      const path = isRelativePath ? parsed.pathname.replace(/^\//, '') : parsed.pathname;
      return parsed.search.length > 1 ? `${path}${parsed.search}` : path;
    } catch {
      return '';
    }
  }

  /** reggie GetAbsoluteLocation: the raw Location header when it parses as a URL reference. */
  absoluteLocation(): string {
    const loc = this.header('Location');
    try {
      new URL(loc, 'http://relative.invalid');
      return loc;
    } catch {
      return '';
    }
  }

  errors(): ErrorInfo[] {
    return decodeErrors(this.body);
  }
}

interface ClientConfig {
  address: string;
  defaultName: string;
  username: string;
  password: string;
  authScope: string;
  bodyTransfer: 'chunked' | 'content-length';
  timeoutMs: number;
  log: ((line: string) => void) | undefined;
}

interface WireRequest {
  method: string;
  url: string;
  headers: Map<string, { name: string; value: string }>;
  body: Buffer | undefined;
}

const MAX_REDIRECTS = 20;

class RegistryClient {
  private readonly httpAgent = new http.Agent({ keepAlive: true });
  private readonly httpsAgent = new https.Agent({ keepAlive: true, rejectUnauthorized: false });

  constructor(readonly config: ClientConfig) {}

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  /** reggie NewRequest: fill in <name>/<reference>/<digest> (only non-empty values) and root the path. */
  newRequest(method: string, path: string, params: PathParams = {}): OciRequest {
    const replacements: Array<[string, string]> = [
      ['<name>', params.name || this.config.defaultName],
      ['<reference>', params.reference ?? ''],
      ['<digest>', params.digest ?? ''],
    ];
    let filled = path;
    for (const [placeholder, value] of replacements) {
      if (value !== '') filled = filled.split(placeholder).join(value);
    }
    const req = new OciRequest(method, `${this.config.address}/${filled.replace(/^\//, '')}`);
    req.setHeader('User-Agent', USER_AGENT);
    return req;
  }

  /** reggie Client.Do: validate, send, and answer one 401 challenge. */
  async do(req: OciRequest): Promise<OciResponse> {
    if (/<name>|<reference>|<digest>|<session_id>|\/{3,}/.test(req.url)) {
      throw new RequestInvalidError(`request is invalid: ${req.url}`);
    }
    const wire = this.toWire(req);
    const resp = await this.send(wire);
    return resp.status === 401 ? this.retryWithAuth(wire, resp) : resp;
  }

  private toWire(req: OciRequest): WireRequest {
    const headers = new Map(req.headers);
    // resty mirrors a JSON Content-Type into Accept when no Accept was given.
    const contentType = req.header('Content-Type');
    if (req.header('Accept') === undefined && contentType && /^(application|text)\/.*json.*(;|$)/i.test(contentType)) {
      headers.set('accept', { name: 'Accept', value: contentType });
    }
    // resty drops bodies on GET/HEAD/OPTIONS.
    const payloadAllowed = !['GET', 'HEAD', 'OPTIONS'].includes(req.method);
    return { method: req.method, url: req.finalUrl(), headers, body: payloadAllowed ? req.body : undefined };
  }

  private async retryWithAuth(wire: WireRequest, original: OciResponse): Promise<OciResponse> {
    const challenge = original.header('Www-Authenticate');
    if (challenge === '') return original;
    // reggie picks the *last* "bearer"/"basic" word in the challenge.
    const words = [...challenge.matchAll(/bearer|basic/gi)];
    const scheme = words.length > 0 ? (words[words.length - 1]?.[0] ?? '').toLowerCase() : '';
    const headers = new Map(wire.headers);
    if (scheme === 'bearer') {
      const token = await this.fetchToken(challenge);
      headers.set('authorization', { name: 'Authorization', value: `Bearer ${token}` });
    } else if (scheme === 'basic') {
      headers.set('authorization', { name: 'Authorization', value: this.basicAuth() });
    } else {
      throw new Error('something went wrong with authorization');
    }
    // Unlike reggie (whose streamed body is already consumed), we resend the body.
    return this.send({ ...wire, headers });
  }

  private basicAuth(): string {
    return `Basic ${Buffer.from(`${this.config.username}:${this.config.password}`).toString('base64')}`;
  }

  private async fetchToken(challenge: string): Promise<string> {
    const params = new Map<string, string>();
    for (const m of challenge.matchAll(/([a-zA-z]+)="(.+?)"/g)) params.set((m[1] ?? '').toLowerCase(), m[2] ?? '');
    const query = new Map<string, string>([['service', params.get('service') ?? '']]);
    const scope = this.config.authScope || params.get('scope') || '';
    if (scope !== '') query.set('scope', scope);
    const realm = params.get('realm') ?? '';
    const url = `${realm}${realm.includes('?') ? '&' : '?'}${goEncodeQuery(query)}`;
    const headers = new Map<string, { name: string; value: string }>([
      ['accept', { name: 'Accept', value: 'application/json' }],
      ['user-agent', { name: 'User-Agent', value: USER_AGENT }],
      ['authorization', { name: 'Authorization', value: this.basicAuth() }],
    ]);
    const resp = await this.send({ method: 'GET', url, headers, body: undefined });
    const doc = goStruct(parseJson(resp.body), 'authInfo');
    const token = goString(goField(doc, 'token'), 'token');
    return token !== '' ? token : goString(goField(doc, 'access_token'), 'access_token');
  }

  /** Sends one request, following redirects with net/http's rules. */
  private async send(first: WireRequest): Promise<OciResponse> {
    let current = first;
    for (let hop = 0; ; hop++) {
      const resp = await this.sendOnce(current);
      const next = this.redirectTarget(current, resp);
      if (next === undefined) return resp;
      if (hop + 1 >= MAX_REDIRECTS) throw new Error(`stopped after ${MAX_REDIRECTS} redirects`);
      current = next;
    }
  }

  private redirectTarget(req: WireRequest, resp: OciResponse): WireRequest | undefined {
    const location = resp.header('Location');
    if (![301, 302, 303, 307, 308].includes(resp.status) || location === '') return undefined;
    const target = new URL(location, req.url).toString();
    const headers = new Map(req.headers);
    if (new URL(target).host !== new URL(req.url).host) headers.delete('authorization');
    if (resp.status === 307 || resp.status === 308) {
      // net/http cannot rewind a streamed body, so it stops and returns the redirect.
      if (req.body !== undefined && req.body.length > 0) return undefined;
      return { ...req, url: target, headers };
    }
    const method = req.method === 'GET' || req.method === 'HEAD' ? req.method : 'GET';
    return { method, url: target, headers, body: undefined };
  }

  private sendOnce(req: WireRequest): Promise<OciResponse> {
    const { url, path } = splitUrl(req.url);
    const headers: Record<string, string> = {};
    for (const { name, value } of req.headers.values()) {
      if (name.toLowerCase() !== 'content-length') headers[name] = value;
    }
    const body = req.body ?? Buffer.alloc(0);
    // net/http always states an empty body as "Content-Length: 0" on POST/PUT/PATCH.
    if (body.length === 0 && ['POST', 'PUT', 'PATCH'].includes(req.method)) headers['Content-Length'] = '0';
    if (body.length > 0) {
      if (this.config.bodyTransfer === 'chunked') headers['Transfer-Encoding'] = 'chunked';
      else headers['Content-Length'] = String(body.length);
    }
    this.config.log?.(`> ${req.method} ${req.url} ${JSON.stringify(headers)}${body.length ? ` [${body.length} bytes]` : ''}`);
    const isHttps = url.protocol === 'https:';
    const options: http.RequestOptions = {
      method: req.method,
      hostname: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port || (isHttps ? 443 : 80),
      path,
      headers,
      agent: isHttps ? this.httpsAgent : this.httpAgent,
    };
    return new Promise<OciResponse>((resolve, reject) => {
      const clientReq = (isHttps ? https : http).request(options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const resp = new OciResponse(res.statusCode ?? 0, res.rawHeaders, Buffer.concat(chunks));
          this.config.log?.(`< ${resp.status} ${JSON.stringify(res.headers)} ${truncate(resp.text(), 500)}`);
          resolve(resp);
        });
      });
      clientReq.setTimeout(this.config.timeoutMs, () => clientReq.destroy(new Error(`timeout after ${this.config.timeoutMs} ms: ${req.method} ${req.url}`)));
      clientReq.on('error', reject);
      clientReq.end(body.length > 0 ? body : undefined);
    });
  }
}

/** Splits an absolute URL into origin parts and the raw request target, without normalising the path. */
function splitUrl(raw: string): { url: URL; path: string } {
  const match = /^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*)(.*)$/.exec(raw);
  if (!match) throw new Error(`unsupported protocol scheme in "${raw}"`);
  const url = new URL(match[1] ?? '');
  const rest = (match[2] ?? '').split('#')[0] ?? '';
  return { url, path: rest === '' ? '/' : rest.startsWith('?') ? `/${rest}` : rest };
}

// ---------------------------------------------------------------------------
// Expectations (Gomega equivalents)
// ---------------------------------------------------------------------------

class SkipSignal extends Error {}
class ExpectationFailure extends Error {}

interface StatusSet {
  accepts(status: number): boolean;
  text: string;
}

function status(...codes: number[]): StatusSet {
  return { accepts: (s) => codes.includes(s), text: codes.join(' or ') };
}

/** SatisfyAll(>= 200, < 300) */
const SUCCESS: StatusSet = { accepts: (s) => s >= 200 && s < 300, text: '2xx' };

/** SatisfyAny(SatisfyAll(>= 200, < 300), ...codes) */
function successOr(...codes: number[]): StatusSet {
  return { accepts: (s) => SUCCESS.accepts(s) || codes.includes(s), text: ['2xx', ...codes].join(' or ') };
}

function expectStatus(resp: OciResponse, allowed: StatusSet, what = ''): void {
  if (allowed.accepts(resp.status)) return;
  const label = what ? `${what}: ` : '';
  const body = resp.text();
  throw new ExpectationFailure(`${label}expected status ${allowed.text}, got ${resp.status}${body ? ` (body: ${truncate(body)})` : ''}`);
}

function expectEqual<T>(actual: T, expected: T, what: string): void {
  if (actual !== expected) {
    throw new ExpectationFailure(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

function expectNotEmpty(value: string, what: string): void {
  if (value === '') throw new ExpectationFailure(`${what}: expected a non-empty value`);
}

function expectThat(condition: boolean, message: string): void {
  if (!condition) throw new ExpectationFailure(message);
}

/** Expect(x).ToNot(BeNil()) on a response variable; the Go suite panics on nil instead in most places. */
function present<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new ExpectationFailure(`${what}: expected a previous response, got nil`);
  return value;
}

function runOnlyIf(condition: boolean): void {
  if (!condition) throw new SkipSignal('you have skipped this test.');
}

function runOnlyIfNot(condition: boolean): void {
  runOnlyIf(!condition);
}

// ---------------------------------------------------------------------------
// Fixtures (setup.go init())
// ---------------------------------------------------------------------------

interface TestBlob {
  content: Buffer;
  contentLength: string;
  digest: string;
}

interface ChunkedBlob {
  blob: Buffer;
  digest: string;
  chunk1: Buffer;
  chunk1Length: string;
  chunk1Range: string;
  chunk2: Buffer;
  chunk2Length: string;
  chunk2Range: string;
}

type JsonObject = { [key: string]: Json };

interface DescriptorSpec {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  data?: Buffer;
  artifactType?: string;
  newUnspecifiedField?: Buffer;
}

/** Field order and omitempty rules of the original's `descriptor` struct. */
function descriptor(d: DescriptorSpec): JsonObject {
  const out: JsonObject = { mediaType: d.mediaType, digest: d.digest, size: d.size };
  if (d.annotations && Object.keys(d.annotations).length > 0) out.annotations = sortedRecord(d.annotations);
  if (d.data && d.data.length > 0) out.data = b64(d.data);
  if (d.artifactType) out.artifactType = d.artifactType;
  out.newUnspecifiedField = d.newUnspecifiedField ? b64(d.newUnspecifiedField) : null;
  return out;
}

interface ManifestSpec {
  mediaType?: string;
  artifactType?: string;
  config: JsonObject;
  layers: JsonObject[];
  subject?: JsonObject;
  annotations?: Record<string, string>;
}

/** Field order and omitempty rules of the original's `manifest` struct. */
function manifestDoc(m: ManifestSpec): Buffer {
  const out: JsonObject = { schemaVersion: 2 };
  if (m.mediaType) out.mediaType = m.mediaType;
  if (m.artifactType) out.artifactType = m.artifactType;
  out.config = m.config;
  out.layers = m.layers;
  if (m.subject) out.subject = m.subject;
  if (m.annotations && Object.keys(m.annotations).length > 0) out.annotations = sortedRecord(m.annotations);
  return goJson(out);
}

interface IndexSpec {
  artifactType: string;
  manifests: JsonObject[];
  subject: JsonObject;
  annotations: Record<string, string>;
}

/** Field order of the original's `index` struct. */
function indexDoc(i: IndexSpec): Buffer {
  return goJson({
    schemaVersion: 2,
    mediaType: MT_INDEX,
    artifactType: i.artifactType,
    manifests: i.manifests,
    subject: i.subject,
    annotations: sortedRecord(i.annotations),
  });
}

/** Go marshals maps with sorted keys. */
function sortedRecord(record: Record<string, string>): JsonObject {
  const out: JsonObject = {};
  for (const key of Object.keys(record).sort()) out[key] = record[key] ?? '';
  return out;
}

function testBlob(content: Buffer, digestOverride?: string): TestBlob {
  return { content, contentLength: String(content.length), digest: digestOverride || sha256Digest(content) };
}

function makeChunkedBlob(size: number): ChunkedBlob {
  const blob = randomBytes(size);
  const split = Math.floor(size / 2) + 1;
  const chunk1 = blob.subarray(0, split);
  const chunk2 = blob.subarray(split);
  return {
    blob,
    digest: sha256Digest(blob),
    chunk1,
    chunk1Length: String(chunk1.length),
    chunk1Range: `0-${chunk1.length - 1}`,
    chunk2,
    chunk2Length: String(chunk2.length),
    chunk2Range: `${chunk1.length}-${blob.length - 1}`,
  };
}

interface RefArtifact {
  content: Buffer;
  digest: string;
}

interface Fixtures {
  configs: TestBlob[];
  manifests: TestBlob[];
  layer: TestBlob;
  emptyLayerManifest: TestBlob;
  testBlobA: TestBlob;
  chunked: ChunkedBlob;
  dummyDigest: string;
  emptyJson: TestBlob;
  refBlobA: TestBlob;
  refBlobB: TestBlob;
  artifactTypeA: string;
  annotationKey: string;
  annotationValues: Map<string, string>;
  refsAConfig: RefArtifact;
  refsBConfig: RefArtifact;
  refsALayer: RefArtifact;
  refsBLayer: RefArtifact;
  refsCLayer: RefArtifact;
  refsIndex: RefArtifact;
}

/** The original builds one per workflow bit (16); only the first five are ever used. */
const WORKFLOW_FIXTURES = 5;

function buildConfigs(blobDigest: string | undefined): TestBlob[] {
  const configs: TestBlob[] = [];
  for (let i = 0; i < WORKFLOW_FIXTURES; i++) {
    // A random author makes every config (and so every manifest) unique per run.
    const image = { author: randomString(16), architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } };
    configs.push(testBlob(goJson(image), blobDigest));
  }
  return configs;
}

function buildImageManifests(configs: TestBlob[], layer: TestBlob, manifestDigest: string | undefined): TestBlob[] {
  const layers = [descriptor({ mediaType: MT_LAYER, size: layer.content.length, digest: layer.digest })];
  return configs.map((config) =>
    testBlob(
      manifestDoc({ mediaType: MT_MANIFEST, config: configDescriptor(config), layers }),
      manifestDigest,
    ),
  );
}

function configDescriptor(config: TestBlob): JsonObject {
  return descriptor({
    mediaType: MT_CONFIG,
    digest: config.digest,
    size: config.content.length,
    data: config.content,
    newUnspecifiedField: Buffer.from('hello world'),
  });
}

function subjectOf(manifest: TestBlob): JsonObject {
  return descriptor({ mediaType: MT_MANIFEST, size: manifest.content.length, digest: sha256Digest(manifest.content) });
}

function artifact(content: Buffer): RefArtifact {
  return { content, digest: sha256Digest(content) };
}

function buildFixtures(opts: ConformanceOptions): Fixtures {
  const configs = buildConfigs(opts.blobDigest);
  const layer = testBlob(Buffer.from(LAYER_BASE64, 'base64'));
  const manifests = buildImageManifests(configs, layer, opts.manifestDigest);
  const config1 = at(configs, 1, 'configs');
  const manifest3 = at(manifests, 3, 'manifests');
  const manifest4 = at(manifests, 4, 'manifests');

  const emptyLayerManifestContent = manifestDoc({ config: configDescriptor(config1), layers: [] });
  const emptyJson = testBlob(Buffer.from('{}'));
  const emptyJsonDescriptor = descriptor({ mediaType: MT_EMPTY, size: emptyJson.content.length, digest: sha256Digest(emptyJson.content) });
  const refBlobA = testBlob(Buffer.from('NHL Peanut Butter on my NHL bagel'));
  const refBlobB = testBlob(Buffer.from('NBA Strawberry Jam on my NBA croissant'));
  const artifactTypeA = 'application/vnd.nhl.peanut.butter.bagel';
  const artifactTypeB = 'application/vnd.nba.strawberry.jam.croissant';
  const annotationKey = 'org.opencontainers.conformance.test';
  const annotationValues = new Map<string, string>();

  const blobDescriptor = (mediaType: string, blob: TestBlob): JsonObject =>
    descriptor({ mediaType, size: blob.content.length, digest: sha256Digest(blob.content) });
  const annotated = (doc: ManifestSpec, value: string): RefArtifact => {
    const made = artifact(manifestDoc({ ...doc, annotations: { [annotationKey]: value } }));
    annotationValues.set(made.digest, value);
    return made;
  };

  // Artifacts whose type is carried by config.mediaType.
  const refsAConfig = annotated(
    { mediaType: MT_MANIFEST, config: blobDescriptor(artifactTypeA, refBlobA), subject: subjectOf(manifest4), layers: [emptyJsonDescriptor] },
    'test config a',
  );
  const refsBConfig = annotated(
    { mediaType: MT_MANIFEST, config: blobDescriptor(artifactTypeB, refBlobB), subject: subjectOf(manifest4), layers: [emptyJsonDescriptor] },
    'test config b',
  );
  // Artifacts with artifactType set and the empty JSON config.
  const refsALayer = annotated(
    { mediaType: MT_MANIFEST, artifactType: artifactTypeA, config: emptyJsonDescriptor, subject: subjectOf(manifest4), layers: [blobDescriptor(artifactTypeA, refBlobA)] },
    'test layer a',
  );
  const refsBLayer = annotated(
    { mediaType: MT_MANIFEST, artifactType: artifactTypeB, config: emptyJsonDescriptor, subject: subjectOf(manifest4), layers: [blobDescriptor(artifactTypeB, refBlobB)] },
    'test layer b',
  );
  // Same as B but its subject (manifests[3]) is never pushed while it exists; no annotations.
  const refsCLayer = artifact(
    manifestDoc({ mediaType: MT_MANIFEST, artifactType: artifactTypeB, config: emptyJsonDescriptor, subject: subjectOf(manifest3), layers: [blobDescriptor(artifactTypeB, refBlobB)] }),
  );
  const refsIndex = artifact(
    indexDoc({
      artifactType: 'application/vnd.food.stand',
      manifests: [
        descriptor({ mediaType: MT_MANIFEST, size: refsAConfig.content.length, digest: refsAConfig.digest }),
        descriptor({ mediaType: MT_MANIFEST, size: refsALayer.content.length, digest: refsALayer.digest }),
      ],
      subject: subjectOf(manifest4),
      annotations: { [annotationKey]: 'test index' },
    }),
  );
  annotationValues.set(refsIndex.digest, 'test index');

  return {
    configs,
    manifests,
    layer,
    emptyLayerManifest: testBlob(emptyLayerManifestContent),
    testBlobA: testBlob(randomBytes(42)),
    chunked: makeChunkedBlob(42),
    dummyDigest: sha256Digest('hello world'),
    emptyJson,
    refBlobA,
    refBlobB,
    artifactTypeA,
    annotationKey,
    annotationValues,
    refsAConfig,
    refsBConfig,
    refsALayer,
    refsBLayer,
    refsCLayer,
    refsIndex,
  };
}

// ---------------------------------------------------------------------------
// Spec tree (Ginkgo Describe / Context / Specify)
// ---------------------------------------------------------------------------

type SpecBody = (warn: (message: string) => void) => Promise<void>;

interface SpecDef {
  texts: string[];
  body: SpecBody;
}

class SpecTree {
  readonly specs: SpecDef[] = [];
  private readonly stack: string[] = [];

  context(text: string, define: () => void): void {
    this.stack.push(text);
    try {
      define();
    } finally {
      this.stack.pop();
    }
  }

  specify(text: string, body: SpecBody): void {
    this.specs.push({ texts: [...this.stack, text], body });
  }
}

// ---------------------------------------------------------------------------
// Suite state shared by all specs (the Go package-level variables)
// ---------------------------------------------------------------------------

interface Suite {
  client: RegistryClient;
  fx: Fixtures;
  namespace: string;
  crossmountNamespace: string;
  enabled: Record<CategoryKey, boolean>;
  runPullSetup: boolean;
  runPushSetup: boolean;
  runContentDiscoverySetup: boolean;
  runContentManagementSetup: boolean;
  deleteManifestBeforeBlobs: boolean;
  runAutomaticCrossmountTest: boolean;
  automaticCrossmountEnabled: boolean;
  tagName: string;
  tagList: string;
}

function skipIfDisabled(s: Suite, category: CategoryKey): void {
  if (!s.enabled[category]) {
    throw new SkipSignal('you have skipped this test; if this is an error, check your environment variable settings');
  }
}

// Request helpers shared by several specs ------------------------------------

/** POST a session then PUT the whole blob to it; the Go setup specs only check the PUT. */
async function uploadBlob(s: Suite, blob: TestBlob, what: string): Promise<void> {
  const post = await s.client.do(s.client.newRequest('POST', '/v2/<name>/blobs/uploads/'));
  const put = s.client
    .newRequest('PUT', post.relativeLocation())
    .setQueryParam('digest', blob.digest)
    .setHeader('Content-Type', OCTET)
    .setHeader('Content-Length', blob.contentLength)
    .setBody(blob.content);
  expectStatus(await s.client.do(put), SUCCESS, what);
}

function putManifestRequest(s: Suite, reference: string, contentType: string, body: Buffer): OciRequest {
  return s.client
    .newRequest('PUT', '/v2/<name>/manifests/<reference>', { reference })
    .setHeader('Content-Type', contentType)
    .setBody(body);
}

async function putManifest(s: Suite, reference: string, body: Buffer, what: string, contentType = MT_MANIFEST): Promise<OciResponse> {
  const resp = await s.client.do(putManifestRequest(s, reference, contentType, body));
  expectStatus(resp, SUCCESS, what);
  return resp;
}

async function deleteExpect(s: Suite, path: string, params: PathParams, allowed: StatusSet, what = ''): Promise<void> {
  expectStatus(await s.client.do(s.client.newRequest('DELETE', path, params)), allowed, what);
}

const MANIFEST_DIGEST_PATH = '/v2/<name>/manifests/<digest>';
const MANIFEST_REF_PATH = '/v2/<name>/manifests/<reference>';
const BLOB_PATH = '/v2/<name>/blobs/<digest>';

// ---------------------------------------------------------------------------
// 01 Pull
// ---------------------------------------------------------------------------

function definePull(t: SpecTree, s: Suite): void {
  let tag = '';
  const guardSetup = (): void => {
    skipIfDisabled(s, 'pull');
    runOnlyIf(s.runPullSetup);
  };

  t.context('Pull', () => {
    t.context('Setup', () => {
      t.specify('Populate registry with test blob', async () => {
        guardSetup();
        await uploadBlob(s, at(s.fx.configs, 0, 'configs'), 'PUT config[0]');
      });
      t.specify('Populate registry with test blob', async () => {
        guardSetup();
        await uploadBlob(s, at(s.fx.configs, 1, 'configs'), 'PUT config[1]');
      });
      t.specify('Populate registry with test layer', async () => {
        guardSetup();
        await uploadBlob(s, s.fx.layer, 'PUT layer');
      });
      t.specify('Populate registry with test manifest', async () => {
        guardSetup();
        tag = TEST_TAG_NAME;
        await putManifest(s, tag, at(s.fx.manifests, 0, 'manifests').content, 'PUT manifest[0] by tag');
      });
      t.specify('Populate registry with test manifest', async () => {
        guardSetup();
        const m1 = at(s.fx.manifests, 1, 'manifests');
        await putManifest(s, m1.digest, m1.content, 'PUT manifest[1] by digest');
      });
      t.specify('Get tag name from environment', async () => {
        skipIfDisabled(s, 'pull');
        runOnlyIfNot(s.runPullSetup);
        if (s.tagName !== '') tag = s.tagName;
      });
    });

    t.context('Pull blobs', () => definePullBlobs(t, s));
    t.context('Pull manifests', () => definePullManifests(t, s, () => tag));

    t.context('Error codes', () => {
      t.specify('400 response body should contain OCI-conforming JSON message', async () => {
        skipIfDisabled(s, 'pull');
        const req = s.client
          .newRequest('GET', MANIFEST_REF_PATH, { reference: 'sha256:totallywrong' })
          .setHeader('Content-Type', MT_MANIFEST)
          .setBody(INVALID_MANIFEST_CONTENT);
        const resp = await s.client.do(req);
        expectStatus(resp, status(400, 404));
        if (resp.status === 400) {
          const errors = resp.errors();
          const code = at(errors, 0, 'errors').code;
          expectThat(ERROR_CODES.includes(code), `error code ${JSON.stringify(code)} is not an OCI error code`);
        }
      });
    });

    t.context('Teardown', () => definePullTeardown(t, s, guardSetup));
  });
}

function definePullBlobs(t: SpecTree, s: Suite): void {
  t.specify('HEAD request to nonexistent blob should result in 404 response', async () => {
    skipIfDisabled(s, 'pull');
    expectStatus(await s.client.do(s.client.newRequest('HEAD', BLOB_PATH, { digest: s.fx.dummyDigest })), status(404));
  });
  t.specify('HEAD request to existing blob should yield 200', async () => {
    skipIfDisabled(s, 'pull');
    const config0 = at(s.fx.configs, 0, 'configs');
    const resp = await s.client.do(s.client.newRequest('HEAD', BLOB_PATH, { digest: config0.digest }));
    expectStatus(resp, status(200));
    expectDigestHeaderIfSet(resp, config0.digest);
  });
  t.specify('GET nonexistent blob should result in 404 response', async () => {
    skipIfDisabled(s, 'pull');
    expectStatus(await s.client.do(s.client.newRequest('GET', BLOB_PATH, { digest: s.fx.dummyDigest })), status(404));
  });
  t.specify('GET request to existing blob URL should yield 200', async () => {
    skipIfDisabled(s, 'pull');
    const config0 = at(s.fx.configs, 0, 'configs');
    expectStatus(await s.client.do(s.client.newRequest('GET', BLOB_PATH, { digest: config0.digest })), status(200));
  });
}

/** Docker-Content-Digest is optional, but must be right when present. */
function expectDigestHeaderIfSet(resp: OciResponse, digest: string): void {
  const header = resp.header('Docker-Content-Digest');
  if (header !== '') expectEqual(header, digest, 'Docker-Content-Digest');
}

function manifestRequest(s: Suite, method: string, params: PathParams): OciRequest {
  const path = params.digest !== undefined ? MANIFEST_DIGEST_PATH : MANIFEST_REF_PATH;
  return s.client.newRequest(method, path, params).setHeader('Accept', MT_MANIFEST);
}

function definePullManifests(t: SpecTree, s: Suite, tag: () => string): void {
  const m = (i: number): TestBlob => at(s.fx.manifests, i, 'manifests');
  for (const method of ['HEAD', 'GET'] as const) {
    const nonexistentText =
      method === 'HEAD' ? 'HEAD request to nonexistent manifest should return 404' : 'GET nonexistent manifest should return 404';
    t.specify(nonexistentText, async () => {
      skipIfDisabled(s, 'pull');
      const req = s.client.newRequest(method, MANIFEST_REF_PATH, { reference: NONEXISTENT_MANIFEST });
      expectStatus(await s.client.do(req), status(404));
    });
    for (const i of [0, 1]) {
      t.specify(`${method} request to manifest[${i}] path (digest) should yield 200 response`, async () => {
        skipIfDisabled(s, 'pull');
        const resp = await s.client.do(manifestRequest(s, method, { digest: m(i).digest }));
        expectStatus(resp, status(200));
        if (method === 'HEAD') expectDigestHeaderIfSet(resp, m(i).digest);
      });
    }
    t.specify(`${method} request to manifest path (tag) should yield 200 response`, async () => {
      skipIfDisabled(s, 'pull');
      expectNotEmpty(tag(), 'tag');
      const resp = await s.client.do(manifestRequest(s, method, { reference: tag() }));
      expectStatus(resp, status(200));
      if (method === 'HEAD') expectDigestHeaderIfSet(resp, m(0).digest);
    });
  }
}

function definePullTeardown(t: SpecTree, s: Suite, guardSetup: () => void): void {
  const deleteManifests = (): void => {
    for (const i of [0, 1]) {
      t.specify(`Delete manifest[${i}] created in setup`, async () => {
        guardSetup();
        const digest = at(s.fx.manifests, i, 'manifests').digest;
        await deleteExpect(s, MANIFEST_DIGEST_PATH, { digest }, successOr(405));
      });
    }
  };
  if (s.deleteManifestBeforeBlobs) deleteManifests();
  for (const i of [0, 1]) {
    t.specify(`Delete config[${i}] blob created in setup`, async () => {
      guardSetup();
      const digest = at(s.fx.configs, i, 'configs').digest;
      await deleteExpect(s, BLOB_PATH, { digest }, successOr(404, 405));
    });
  }
  t.specify('Delete layer blob created in setup', async () => {
    guardSetup();
    await deleteExpect(s, BLOB_PATH, { digest: s.fx.layer.digest }, successOr(404, 405));
  });
  if (!s.deleteManifestBeforeBlobs) deleteManifests();
}

// ---------------------------------------------------------------------------
// 02 Push
// ---------------------------------------------------------------------------

/** Mutable state shared by the push specs (the closure variables of test02Push). */
interface PushState {
  lastResponse: OciResponse | undefined;
  prevResponse: OciResponse | undefined;
  emptyLayerManifestRef: string;
}

function definePush(t: SpecTree, s: Suite): void {
  const st: PushState = { lastResponse: undefined, prevResponse: undefined, emptyLayerManifestRef: '' };
  t.context('Push', () => {
    t.context('Setup', () => {
      // The original has no push setup specs.
    });
    t.context('Blob Upload Streamed', () => definePushStreamed(t, s, st));
    t.context('Blob Upload Monolithic', () => definePushMonolithic(t, s, st));
    t.context('Blob Upload Chunked', () => definePushChunked(t, s, st));
    t.context('Cross-Repository Blob Mount', () => definePushCrossMount(t, s, st));
    t.context('Manifest Upload', () => definePushManifests(t, s, st));
    t.context('Teardown', () => definePushTeardown(t, s, st));
  });
}

function definePushStreamed(t: SpecTree, s: Suite, st: PushState): void {
  t.specify('PATCH request with blob in body should yield 202 response', async () => {
    skipIfDisabled(s, 'push');
    const post = await s.client.do(s.client.newRequest('POST', '/v2/<name>/blobs/uploads/'));
    expectNotEmpty(post.header('Location'), 'Location');
    const patch = s.client.newRequest('PATCH', post.relativeLocation()).setHeader('Content-Type', OCTET).setBody(s.fx.testBlobA.content);
    const resp = await s.client.do(patch);
    expectStatus(resp, status(202));
    st.lastResponse = resp;
  });
  t.specify('PUT request to session URL with digest should yield 201 response', async () => {
    skipIfDisabled(s, 'push');
    const last = present(st.lastResponse, 'lastResponse');
    // No body: the blob was streamed by the PATCH above.
    const put = s.client
      .newRequest('PUT', last.relativeLocation())
      .setQueryParam('digest', s.fx.testBlobA.digest)
      .setHeader('Content-Type', OCTET)
      .setHeader('Content-Length', s.fx.testBlobA.contentLength);
    const resp = await s.client.do(put);
    expectStatus(resp, status(201));
    expectNotEmpty(resp.header('Location'), 'Location');
  });
}

function definePushMonolithic(t: SpecTree, s: Suite, st: PushState): void {
  const config1 = (): TestBlob => at(s.fx.configs, 1, 'configs');
  t.specify('GET nonexistent blob should result in 404 response', async () => {
    skipIfDisabled(s, 'push');
    expectStatus(await s.client.do(s.client.newRequest('GET', BLOB_PATH, { digest: s.fx.dummyDigest })), status(404));
  });
  t.specify('POST request with digest and blob should yield a 201 or 202', async () => {
    skipIfDisabled(s, 'push');
    const req = s.client
      .newRequest('POST', '/v2/<name>/blobs/uploads/')
      .setHeader('Content-Length', config1().contentLength)
      .setHeader('Content-Type', OCTET)
      .setQueryParam('digest', config1().digest)
      .setBody(config1().content);
    const resp = await s.client.do(req);
    expectNotEmpty(resp.header('Location'), 'Location');
    expectStatus(resp, status(201, 202));
    st.lastResponse = resp;
  });
  t.specify('GET request to blob URL from prior request should yield 200 or 404 based on response code', async () => {
    skipIfDisabled(s, 'push');
    const last = present(st.lastResponse, 'lastResponse');
    const resp = await s.client.do(s.client.newRequest('GET', BLOB_PATH, { digest: config1().digest }));
    // A 202 means the POST only opened a session, so the blob must not exist yet.
    expectStatus(resp, last.status === 202 ? status(404) : status(200));
  });
  t.specify('POST request should yield a session ID', async () => {
    skipIfDisabled(s, 'push');
    const resp = await s.client.do(s.client.newRequest('POST', '/v2/<name>/blobs/uploads/'));
    expectStatus(resp, status(202));
    st.lastResponse = resp;
  });
  t.specify('PUT upload of a blob should yield a 201 Response', async () => {
    skipIfDisabled(s, 'push');
    const last = present(st.lastResponse, 'lastResponse');
    const req = s.client
      .newRequest('PUT', last.relativeLocation())
      .setHeader('Content-Length', config1().contentLength)
      .setHeader('Content-Type', OCTET)
      .setQueryParam('digest', config1().digest)
      .setBody(config1().content);
    const resp = await s.client.do(req);
    expectNotEmpty(resp.header('Location'), 'Location');
    expectStatus(resp, status(201));
  });
  t.specify('GET request to existing blob should yield 200 response', async () => {
    skipIfDisabled(s, 'push');
    expectStatus(await s.client.do(s.client.newRequest('GET', BLOB_PATH, { digest: config1().digest })), status(200));
  });
  t.specify('PUT upload of a layer blob should yield a 201 Response', async () => {
    skipIfDisabled(s, 'push');
    const post = await s.client.do(s.client.newRequest('POST', '/v2/<name>/blobs/uploads/'));
    const req = s.client
      .newRequest('PUT', post.relativeLocation())
      .setHeader('Content-Length', s.fx.layer.contentLength)
      .setHeader('Content-Type', OCTET)
      .setQueryParam('digest', s.fx.layer.digest)
      .setBody(s.fx.layer.content);
    const resp = await s.client.do(req);
    expectNotEmpty(resp.header('Location'), 'Location');
    expectStatus(resp, status(201));
  });
  t.specify('GET request to existing layer should yield 200 response', async () => {
    skipIfDisabled(s, 'push');
    expectStatus(await s.client.do(s.client.newRequest('GET', BLOB_PATH, { digest: s.fx.layer.digest })), status(200));
  });
}

function chunkPatch(s: Suite, location: string, chunk: Buffer, length: string, range: string): OciRequest {
  return s.client
    .newRequest('PATCH', location)
    .setHeader('Content-Type', OCTET)
    .setHeader('Content-Length', length)
    .setHeader('Content-Range', range)
    .setBody(chunk);
}

async function openChunkedSession(s: Suite): Promise<OciResponse> {
  const resp = await s.client.do(s.client.newRequest('POST', '/v2/<name>/blobs/uploads/').setHeader('Content-Length', '0'));
  expectNotEmpty(resp.header('Location'), 'Location');
  return resp;
}

function definePushChunked(t: SpecTree, s: Suite, st: PushState): void {
  t.specify('Out-of-order blob upload should return 416', async () => {
    skipIfDisabled(s, 'push');
    const post = await openChunkedSession(s);
    // Registries may demand a minimum chunk size; regrow the blob so chunk 1 meets it.
    const minSizeText = post.header('OCI-Chunk-Min-Length');
    if (minSizeText !== '') {
      expectThat(/^[+-]?\d+$/.test(minSizeText), `OCI-Chunk-Min-Length is not an integer: ${minSizeText}`);
      const minSize = Number.parseInt(minSizeText, 10);
      if (minSize > s.fx.chunked.chunk1.length) s.fx.chunked = makeChunkedBlob(minSize * 2 - 2);
    }
    const c = s.fx.chunked;
    const resp = await s.client.do(chunkPatch(s, post.relativeLocation(), c.chunk2, c.chunk2Length, c.chunk2Range));
    expectStatus(resp, status(416));
  });
  t.specify('PATCH request with first chunk should return 202', async () => {
    skipIfDisabled(s, 'push');
    const post = await openChunkedSession(s);
    st.prevResponse = post;
    const c = s.fx.chunked;
    const resp = await s.client.do(chunkPatch(s, post.relativeLocation(), c.chunk1, c.chunk1Length, c.chunk1Range));
    expectStatus(resp, status(202));
    expectEqual(resp.header('Range'), c.chunk1Range, 'Range');
    st.lastResponse = resp;
  });
  t.specify('Retry previous blob chunk should return 416', async () => {
    skipIfDisabled(s, 'push');
    const prev = present(st.prevResponse, 'prevResponse');
    const c = s.fx.chunked;
    const resp = await s.client.do(chunkPatch(s, prev.relativeLocation(), c.chunk1, c.chunk1Length, c.chunk1Range));
    expectStatus(resp, status(416));
  });
  t.specify('Get on stale blob upload should return 204 with a range and location', async () => {
    skipIfDisabled(s, 'push');
    const prev = present(st.prevResponse, 'prevResponse');
    const resp = await s.client.do(s.client.newRequest('GET', prev.relativeLocation()));
    expectStatus(resp, status(204));
    expectNotEmpty(resp.header('Location'), 'Location');
    expectEqual(resp.header('Range'), s.fx.chunked.chunk1Range, 'Range');
    st.lastResponse = resp;
  });
  t.specify('PATCH request with second chunk should return 202', async () => {
    skipIfDisabled(s, 'push');
    const last = present(st.lastResponse, 'lastResponse');
    const c = s.fx.chunked;
    const resp = await s.client.do(chunkPatch(s, last.relativeLocation(), c.chunk2, c.chunk2Length, c.chunk2Range));
    const location = resp.header('Location');
    expectStatus(resp, status(202));
    expectNotEmpty(location, 'Location');
    st.lastResponse = resp;
  });
  t.specify('PUT request with digest should return 201', async () => {
    skipIfDisabled(s, 'push');
    const last = present(st.lastResponse, 'lastResponse');
    const req = s.client
      .newRequest('PUT', last.relativeLocation())
      .setHeader('Content-Length', '0')
      .setHeader('Content-Type', OCTET)
      .setQueryParam('digest', s.fx.chunked.digest);
    const resp = await s.client.do(req);
    expectStatus(resp, status(201));
    expectNotEmpty(resp.header('Location'), 'Location');
  });
}

function mountRequest(s: Suite, mount: string, from?: string): OciRequest {
  const req = s.client.newRequest('POST', '/v2/<name>/blobs/uploads/', { name: s.crossmountNamespace }).setQueryParam('mount', mount);
  return from === undefined ? req : req.setQueryParam('from', from);
}

function definePushCrossMount(t: SpecTree, s: Suite, st: PushState): void {
  /** The Go code dereferences lastResponse without a nil check; that panics, i.e. fails. */
  const lastStatus = (): number => present(st.lastResponse, 'lastResponse').status;
  t.specify('Cross-mounting of a blob without the from argument should yield session id', async () => {
    skipIfDisabled(s, 'push');
    const resp = await s.client.do(mountRequest(s, s.fx.dummyDigest));
    expectStatus(resp, status(202));
    expectNotEmpty(resp.absoluteLocation(), 'Location');
  });
  t.specify("POST request to mount another repository's blob should return 201 or 202", async () => {
    skipIfDisabled(s, 'push');
    const resp = await s.client.do(mountRequest(s, s.fx.testBlobA.digest, s.namespace));
    expectStatus(resp, status(201, 202));
    st.lastResponse = resp;
  });
  t.specify('GET request to test digest within cross-mount namespace should return 200', async () => {
    skipIfDisabled(s, 'push');
    runOnlyIf(lastStatus() === 201);
    const last = present(st.lastResponse, 'lastResponse');
    expectEqual(last.relativeLocation(), `/v2/${s.crossmountNamespace}/blobs/${s.fx.testBlobA.digest}`, 'Location');
    expectStatus(await s.client.do(s.client.newRequest('GET', last.relativeLocation())), status(200));
  });
  t.specify('Cross-mounting of nonexistent blob should yield session id', async () => {
    skipIfDisabled(s, 'push');
    runOnlyIf(lastStatus() === 202);
    const location = present(st.lastResponse, 'lastResponse').relativeLocation();
    const prefix = `/v2/${s.crossmountNamespace}/blobs/uploads/`;
    expectThat(location.startsWith(prefix), `Location ${JSON.stringify(location)} does not start with ${JSON.stringify(prefix)}`);
  });
  t.specify('Cross-mounting without from, and automatic content discovery enabled should return a 201', async () => {
    skipIfDisabled(s, 'push');
    runOnlyIf(s.runAutomaticCrossmountTest);
    runOnlyIf(lastStatus() === 201);
    runOnlyIf(s.automaticCrossmountEnabled);
    expectStatus(await s.client.do(mountRequest(s, s.fx.testBlobA.digest)), status(201));
  });
  t.specify('Cross-mounting without from, and automatic content discovery disabled should return a 202', async () => {
    skipIfDisabled(s, 'push');
    runOnlyIf(s.runAutomaticCrossmountTest);
    runOnlyIf(lastStatus() === 201);
    runOnlyIfNot(s.automaticCrossmountEnabled);
    expectStatus(await s.client.do(mountRequest(s, s.fx.testBlobA.digest)), status(202));
  });
}

function definePushManifests(t: SpecTree, s: Suite, st: PushState): void {
  t.specify('GET nonexistent manifest should return 404', async () => {
    skipIfDisabled(s, 'push');
    const req = s.client.newRequest('GET', MANIFEST_REF_PATH, { reference: NONEXISTENT_MANIFEST });
    expectStatus(await s.client.do(req), status(404));
  });
  t.specify('PUT should accept a manifest upload', async () => {
    skipIfDisabled(s, 'push');
    for (let i = 0; i < 4; i++) {
      const resp = await s.client.do(putManifestRequest(s, `test${i}`, MT_MANIFEST, at(s.fx.manifests, 1, 'manifests').content));
      expectNotEmpty(resp.header('Location'), `Location (tag test${i})`);
      expectStatus(resp, status(201), `tag test${i}`);
    }
  });
  t.specify('Registry should accept a manifest upload with no layers', async (warn) => {
    skipIfDisabled(s, 'push');
    const resp = await s.client.do(putManifestRequest(s, EMPTY_LAYER_TEST_TAG, MT_MANIFEST, s.fx.emptyLayerManifest.content));
    if (resp.status === 201) {
      st.emptyLayerManifestRef = resp.header('Location');
      expectNotEmpty(st.emptyLayerManifestRef, 'Location');
    } else {
      warn('image manifest with no layers is not supported');
    }
  });
  t.specify('GET request to manifest URL (digest) should yield 200 response', async () => {
    skipIfDisabled(s, 'push');
    const digest = at(s.fx.manifests, 1, 'manifests').digest;
    expectStatus(await s.client.do(manifestRequest(s, 'GET', { digest })), status(200));
  });
}

function definePushTeardown(t: SpecTree, s: Suite, st: PushState): void {
  const guard = (): void => {
    skipIfDisabled(s, 'push');
    runOnlyIf(s.runPushSetup);
  };
  const deleteManifests = (): void => {
    t.specify('Delete manifest created in tests', async () => {
      guard();
      await deleteExpect(s, MANIFEST_DIGEST_PATH, { digest: at(s.fx.manifests, 1, 'manifests').digest }, successOr(405));
      if (st.emptyLayerManifestRef !== '') {
        await deleteExpect(s, MANIFEST_REF_PATH, { reference: s.fx.emptyLayerManifest.digest }, successOr(405), 'empty-layer manifest');
      }
    });
  };
  if (s.deleteManifestBeforeBlobs) deleteManifests();
  t.specify('Delete config blob created in tests', async () => {
    guard();
    await deleteExpect(s, BLOB_PATH, { digest: at(s.fx.configs, 1, 'configs').digest }, successOr(404, 405));
  });
  t.specify('Delete layer blob created in setup', async () => {
    guard();
    await deleteExpect(s, BLOB_PATH, { digest: s.fx.layer.digest }, successOr(404, 405));
  });
  if (!s.deleteManifestBeforeBlobs) deleteManifests();
}

// ---------------------------------------------------------------------------
// 03 Content Discovery
// ---------------------------------------------------------------------------

interface DiscoveryState {
  numTags: number;
  tagList: string[];
}

/** getTagList(): any decoding problem yields an empty list. */
function tagsOf(resp: OciResponse): string[] {
  try {
    return decodeTagList(resp.body).tags;
  } catch {
    return [];
  }
}

function defineDiscovery(t: SpecTree, s: Suite): void {
  const st: DiscoveryState = { numTags: 4, tagList: [] };
  t.context('Content Discovery', () => {
    t.context('Setup', () => defineDiscoverySetup(t, s, st));
    t.context('Test content discovery endpoints (listing tags)', () => defineTagListing(t, s, st));
    t.context('Test content discovery endpoints (listing references)', () => defineReferrers(t, s));
    t.context('Teardown', () => defineDiscoveryTeardown(t, s));
  });
}

function defineDiscoverySetup(t: SpecTree, s: Suite, st: DiscoveryState): void {
  const guard = (): void => {
    skipIfDisabled(s, 'contentDiscovery');
    runOnlyIf(s.runContentDiscoverySetup);
  };
  t.specify('Populate registry with test blob', async () => {
    guard();
    await uploadBlob(s, at(s.fx.configs, 2, 'configs'), 'PUT config[2]');
  });
  t.specify('Populate registry with test layer', async () => {
    guard();
    await uploadBlob(s, s.fx.layer, 'PUT layer');
  });
  t.specify('Populate registry with test tags', async () => {
    guard();
    for (let i = 0; i < st.numTags; i++) {
      st.tagList.push(`test${i}`);
      await putManifest(s, `test${i}`, at(s.fx.manifests, 2, 'manifests').content, `PUT tag test${i}`);
    }
    st.tagList = tagsOf(await s.client.do(s.client.newRequest('GET', '/v2/<name>/tags/list')));
  });
  t.specify('Populate registry with test tags (no push)', async () => {
    skipIfDisabled(s, 'contentDiscovery');
    runOnlyIfNot(s.runContentDiscoverySetup);
    st.tagList = s.tagList.split(',');
  });
  t.specify('References setup', async () => {
    guard();
    await referencesSetup(s);
  });
}

/** Pushes the referrers fixtures; the order matters (some blobs go before the subject exists). */
async function referencesSetup(s: Suite): Promise<void> {
  const fx = s.fx;
  const m3 = at(fx.manifests, 3, 'manifests');
  const m4 = at(fx.manifests, 4, 'manifests');
  expectEqual(sha256Digest(fx.emptyJson.content), EMPTY_JSON_DIGEST, 'empty JSON descriptor digest');
  await uploadBlob(s, fx.emptyJson, 'PUT empty JSON blob');
  await uploadBlob(s, fx.refBlobA, 'PUT reference blob A');
  await putReferrer(s, fx.refsAConfig, m4.digest, 'PUT artifact A (config media type)');
  await putReferrer(s, fx.refsALayer, m4.digest, 'PUT artifact A (artifactType)');
  await putReferrer(s, fx.refsIndex, m4.digest, 'PUT artifact index', MT_INDEX);
  await uploadBlob(s, at(fx.configs, 4, 'configs'), 'PUT config[4]');
  await uploadBlob(s, fx.layer, 'PUT layer');
  await putManifest(s, TEST_TAG_NAME, m4.content, 'PUT manifest[4] (subject)');
  await uploadBlob(s, fx.refBlobB, 'PUT reference blob B');
  await putReferrer(s, fx.refsBConfig, m4.digest, 'PUT artifact B (config media type)');
  await putReferrer(s, fx.refsBLayer, m4.digest, 'PUT artifact B (artifactType)');
  await putReferrer(s, fx.refsCLayer, m3.digest, 'PUT artifact C (subject never pushed)');
}

async function putReferrer(s: Suite, ref: RefArtifact, subjectDigest: string, what: string, contentType = MT_MANIFEST): Promise<void> {
  const resp = await putManifest(s, ref.digest, ref.content, what, contentType);
  expectEqual(resp.header('OCI-Subject'), subjectDigest, `${what}: OCI-Subject`);
}

function tagsListRequest(s: Suite, n?: number, last?: string): OciRequest {
  const req = s.client.newRequest('GET', '/v2/<name>/tags/list');
  if (n !== undefined) req.setQueryParam('n', String(n));
  if (last !== undefined) req.setQueryParam('last', last);
  return req;
}

function defineTagListing(t: SpecTree, s: Suite, st: DiscoveryState): void {
  t.specify('GET request to list tags should yield 200 response', async () => {
    skipIfDisabled(s, 'contentDiscovery');
    const resp = await s.client.do(tagsListRequest(s));
    expectStatus(resp, status(200));
    st.tagList = tagsOf(resp);
    st.numTags = st.tagList.length;
  });
  t.specify('GET number of tags should be limitable by `n` query parameter', async () => {
    skipIfDisabled(s, 'contentDiscovery');
    const numResults = Math.trunc(st.numTags / 2);
    const resp = await s.client.do(tagsListRequest(s, numResults));
    expectStatus(resp, status(200));
    st.tagList = tagsOf(resp);
    expectEqual(st.tagList.length, numResults, 'number of tags');
  });
  t.specify('GET start of tag is set by `last` query parameter', async () => {
    skipIfDisabled(s, 'contentDiscovery');
    const numResults = Math.trunc(st.numTags / 2);
    st.tagList = tagsOf(await s.client.do(tagsListRequest(s, numResults)));
    const last = at(st.tagList, numResults - 1, 'tagList');
    const resp = await s.client.do(tagsListRequest(s, numResults, last));
    expectStatus(resp, status(200));
    // As in the original, the assertions look at the first (n-limited) page, not this response.
    expectThat(st.tagList.length <= numResults, `number of tags: expected <= ${numResults}, got ${st.tagList.length} (${JSON.stringify(st.tagList)})`);
    expectThat(st.tagList.includes(last), `tag list does not contain ${last}`);
  });
}

async function getReferrers(s: Suite, digest: string, artifactType?: string): Promise<{ resp: OciResponse; manifests: IndexDescriptor[] }> {
  const req = s.client.newRequest('GET', '/v2/<name>/referrers/<digest>', { digest });
  if (artifactType !== undefined) req.setQueryParam('artifactType', artifactType);
  const resp = await s.client.do(req);
  expectStatus(resp, status(200));
  expectEqual(resp.header('Content-Type'), MT_INDEX, 'Content-Type');
  return { resp, manifests: decodeIndex(resp.body) };
}

/** Each referrer must carry exactly the one annotation its fixture was given. */
function expectAnnotations(s: Suite, manifests: IndexDescriptor[]): void {
  manifests.forEach((m, i) => {
    expectEqual(m.annotations.size, 1, `manifests[${i}] number of annotations`);
    const expected = s.fx.annotationValues.get(m.digest) ?? '';
    expectEqual(m.annotations.get(s.fx.annotationKey) ?? '', expected, `manifests[${i}] annotation ${s.fx.annotationKey}`);
  });
}

function defineReferrers(t: SpecTree, s: Suite): void {
  const m = (i: number): TestBlob => at(s.fx.manifests, i, 'manifests');
  t.specify('GET request to nonexistent blob should result in empty 200 response', async () => {
    skipIfDisabled(s, 'contentDiscovery');
    const { manifests } = await getReferrers(s, s.fx.dummyDigest);
    expectEqual(manifests.length, 0, 'number of referrers');
  });
  t.specify('GET request to existing blob should yield 200', async () => {
    skipIfDisabled(s, 'contentDiscovery');
    const { manifests } = await getReferrers(s, m(4).digest);
    expectEqual(manifests.length, 5, 'number of referrers');
    expectThat(at(manifests, 0, 'manifests').digest !== at(manifests, 1, 'manifests').digest, 'manifests[0] and manifests[1] have the same digest');
    expectAnnotations(s, manifests);
  });
  t.specify('GET request to existing blob with filter should yield 200', async (warn) => {
    skipIfDisabled(s, 'contentDiscovery');
    const { resp, manifests } = await getReferrers(s, m(4).digest, s.fx.artifactTypeA);
    const applied = resp.header('OCI-Filters-Applied');
    if (applied !== '') {
      expectEqual(manifests.length, 2, 'number of filtered referrers');
      expectEqual(applied, ARTIFACT_TYPE_FILTER, 'OCI-Filters-Applied');
    } else {
      expectEqual(manifests.length, 5, 'number of referrers (filter not applied)');
    }
    expectAnnotations(s, manifests);
    if (applied === '') warn('filtering by artifact-type is not implemented');
  });
  t.specify('GET request to missing manifest should yield 200', async () => {
    skipIfDisabled(s, 'contentDiscovery');
    const { manifests } = await getReferrers(s, m(3).digest);
    expectEqual(manifests.length, 1, 'number of referrers');
    expectEqual(at(manifests, 0, 'manifests').digest, s.fx.refsCLayer.digest, 'referrer digest');
  });
}

function defineDiscoveryTeardown(t: SpecTree, s: Suite): void {
  const guard = (): void => {
    skipIfDisabled(s, 'contentDiscovery');
    runOnlyIf(s.runContentDiscoverySetup);
  };
  const deleteManifests = (): void => {
    t.specify('Delete created manifest & associated tags', async () => {
      guard();
      const fx = s.fx;
      const references = [
        fx.refsIndex.digest,
        at(fx.manifests, 2, 'manifests').digest,
        at(fx.manifests, 4, 'manifests').digest,
        fx.refsAConfig.digest,
        fx.refsALayer.digest,
        TEST_TAG_NAME,
        fx.refsBConfig.digest,
        fx.refsBLayer.digest,
        fx.refsCLayer.digest,
      ];
      for (const ref of references) {
        // The tag goes through the <digest> placeholder too, exactly like the original.
        await deleteExpect(s, MANIFEST_DIGEST_PATH, { digest: ref }, successOr(405, 404), `DELETE manifest ${ref}`);
      }
    });
  };
  if (s.deleteManifestBeforeBlobs) deleteManifests();
  t.specify('Delete config blob created in tests', async () => {
    guard();
    await deleteExpect(s, BLOB_PATH, { digest: at(s.fx.configs, 2, 'configs').digest }, successOr(405));
  });
  t.specify('Delete layer blob created in setup', async () => {
    guard();
    await deleteExpect(s, BLOB_PATH, { digest: s.fx.layer.digest }, successOr(405));
  });
  if (!s.deleteManifestBeforeBlobs) deleteManifests();
  t.specify('References teardown', async () => {
    guard();
    await referencesTeardown(s);
  });
}

async function referencesTeardown(s: Suite): Promise<void> {
  const fx = s.fx;
  const allowed = successOr(405, 404);
  const deleteManifestsInOrder = async (): Promise<void> => {
    await deleteExpect(s, MANIFEST_REF_PATH, { reference: fx.refsIndex.digest }, allowed, 'DELETE artifact index');
    await deleteExpect(s, MANIFEST_REF_PATH, { reference: fx.refsAConfig.digest }, allowed, 'DELETE artifact A (config)');
    await deleteExpect(s, MANIFEST_REF_PATH, { reference: fx.refsALayer.digest }, allowed, 'DELETE artifact A (layer)');
    await deleteExpect(s, MANIFEST_DIGEST_PATH, { digest: at(fx.manifests, 4, 'manifests').digest }, allowed, 'DELETE manifest[4]');
    await deleteExpect(s, MANIFEST_REF_PATH, { reference: fx.refsBConfig.digest }, allowed, 'DELETE artifact B (config)');
    await deleteExpect(s, MANIFEST_REF_PATH, { reference: fx.refsBLayer.digest }, allowed, 'DELETE artifact B (layer)');
  };
  if (s.deleteManifestBeforeBlobs) await deleteManifestsInOrder();
  await deleteExpect(s, BLOB_PATH, { digest: at(fx.configs, 4, 'configs').digest }, allowed, 'DELETE config[4]');
  await deleteExpect(s, BLOB_PATH, { digest: fx.refBlobA.digest }, allowed, 'DELETE reference blob A');
  await deleteExpect(s, BLOB_PATH, { digest: fx.refBlobB.digest }, allowed, 'DELETE reference blob B');
  await deleteExpect(s, BLOB_PATH, { digest: sha256Digest(fx.emptyJson.content) }, allowed, 'DELETE empty JSON blob');
  if (!s.deleteManifestBeforeBlobs) await deleteManifestsInOrder();
}

// ---------------------------------------------------------------------------
// 04 Content Management
// ---------------------------------------------------------------------------

interface ManagementState {
  tagToDelete: string;
  numTags: number;
  blobDeleteAllowed: boolean;
}

/** json.Unmarshal into TagList must succeed here (unlike getTagList, errors count). */
function countTags(resp: OciResponse): number {
  try {
    return decodeTagList(resp.body).tags.length;
  } catch (err) {
    throw new ExpectationFailure(`tag list: ${(err as Error).message}`);
  }
}

function defineManagement(t: SpecTree, s: Suite): void {
  const st: ManagementState = { tagToDelete: '', numTags: 0, blobDeleteAllowed: true };
  t.context('Content Management', () => {
    t.context('Setup', () => defineManagementSetup(t, s, st));
    t.context('Manifest delete', () => defineManifestDelete(t, s, st));
    t.context('Blob delete', () => defineBlobDelete(t, s, st));
    t.context('Teardown', () => {
      // The original has no content-management teardown specs.
    });
  });
}

function defineManagementSetup(t: SpecTree, s: Suite, st: ManagementState): void {
  const guard = (): void => {
    skipIfDisabled(s, 'contentManagement');
    runOnlyIf(s.runContentManagementSetup);
  };
  t.specify('Populate registry with test config blob', async () => {
    guard();
    await uploadBlob(s, at(s.fx.configs, 3, 'configs'), 'PUT config[3]');
  });
  t.specify('Populate registry with test layer', async () => {
    guard();
    await uploadBlob(s, s.fx.layer, 'PUT layer');
  });
  t.specify('Populate registry with test tag', async () => {
    guard();
    st.tagToDelete = TEST_TAG_NAME;
    await putManifest(s, st.tagToDelete, at(s.fx.manifests, 3, 'manifests').content, 'PUT manifest[3] by tag');
  });
  t.specify('Check how many tags there are before anything gets deleted', async () => {
    guard();
    const resp = await s.client.do(s.client.newRequest('GET', '/v2/<name>/tags/list'));
    expectStatus(resp, status(200));
    st.numTags = countTags(resp);
  });
}

function defineManifestDelete(t: SpecTree, s: Suite, st: ManagementState): void {
  const digest3 = (): string => at(s.fx.manifests, 3, 'manifests').digest;
  t.specify('DELETE request to manifest tag should return 202, unless tag deletion is disallowed (400/405)', async () => {
    skipIfDisabled(s, 'contentManagement');
    const resp = await s.client.do(s.client.newRequest('DELETE', MANIFEST_REF_PATH, { reference: st.tagToDelete }));
    expectStatus(resp, status(400, 202, 405));
    if (resp.status === 400) {
      const errors = resp.errors();
      expectEqual(at(errors, 0, 'errors').code, 'UNSUPPORTED', 'error code');
    }
  });
  t.specify('DELETE request to manifest (digest) should yield 202 response unless already deleted', async () => {
    skipIfDisabled(s, 'contentManagement');
    // 404 is fine: deleting the tag may already have removed the manifest.
    await deleteExpect(s, MANIFEST_DIGEST_PATH, { digest: digest3() }, status(202, 404));
  });
  t.specify('GET request to deleted manifest URL should yield 404 response, unless delete is disallowed', async () => {
    skipIfDisabled(s, 'contentManagement');
    expectStatus(await s.client.do(s.client.newRequest('GET', MANIFEST_DIGEST_PATH, { digest: digest3() })), status(404, 200));
  });
  t.specify('GET request to tags list should reflect manifest deletion', async () => {
    skipIfDisabled(s, 'contentManagement');
    const resp = await s.client.do(s.client.newRequest('GET', '/v2/<name>/tags/list'));
    expectStatus(resp, status(200));
    const count = countTags(resp);
    expectThat(count < st.numTags, `number of tags: expected < ${st.numTags}, got ${count}`);
  });
}

function defineBlobDelete(t: SpecTree, s: Suite, st: ManagementState): void {
  t.specify('DELETE request to blob URL should yield 202 response', async () => {
    skipIfDisabled(s, 'contentManagement');
    runOnlyIf(s.runContentManagementSetup);
    const allowed = status(202, 404, 405);
    await deleteExpect(s, BLOB_PATH, { digest: at(s.fx.configs, 3, 'configs').digest }, allowed, 'config blob');
    const resp = await s.client.do(s.client.newRequest('DELETE', BLOB_PATH, { digest: s.fx.layer.digest }));
    expectStatus(resp, allowed, 'layer blob');
    if (resp.status === 405) st.blobDeleteAllowed = false;
  });
  t.specify('GET request to deleted blob URL should yield 404 response', async () => {
    skipIfDisabled(s, 'contentManagement');
    runOnlyIf(s.runContentManagementSetup);
    runOnlyIf(st.blobDeleteAllowed);
    const req = s.client.newRequest('GET', BLOB_PATH, { digest: at(s.fx.configs, 3, 'configs').digest });
    expectStatus(await s.client.do(req), status(404));
  });
}

// ---------------------------------------------------------------------------
// Runner
// ---------------------------------------------------------------------------

function resolveSuite(opts: ConformanceOptions): Suite {
  const namespace = opts.namespace;
  const enabled: Record<CategoryKey, boolean> = {
    pull: opts.categories?.pull ?? true,
    push: opts.categories?.push ?? true,
    contentDiscovery: opts.categories?.contentDiscovery ?? true,
    contentManagement: opts.categories?.contentManagement ?? true,
  };
  const client = new RegistryClient({
    // reggie trims exactly one trailing slash.
    address: opts.rootUrl.replace(/\/$/, ''),
    defaultName: namespace,
    username: opts.username ?? '',
    password: opts.password ?? '',
    authScope: opts.authScope ?? '',
    bodyTransfer: opts.bodyTransfer ?? 'chunked',
    timeoutMs: opts.requestTimeoutMs ?? 120_000,
    log: opts.log,
  });
  return {
    client,
    fx: buildFixtures(opts),
    namespace,
    crossmountNamespace: opts.crossmountNamespace || `conformance-${randomUUID()}`,
    enabled,
    // The pull setup is replaced by pre-existing content only when all three are given.
    runPullSetup: !(opts.tagName && opts.manifestDigest && opts.blobDigest),
    runPushSetup: true,
    runContentDiscoverySetup: !opts.tagList,
    runContentManagementSetup: true,
    deleteManifestBeforeBlobs: opts.deleteManifestBeforeBlobs ?? true,
    runAutomaticCrossmountTest: opts.automaticCrossmount !== undefined,
    automaticCrossmountEnabled: opts.automaticCrossmount ?? false,
    tagName: opts.tagName ?? '',
    tagList: opts.tagList ?? '',
  };
}

/** Builds the spec list in the original's order; teardown order depends on deleteManifestBeforeBlobs. */
function listSpecs(s: Suite): SpecDef[] {
  const tree = new SpecTree();
  tree.context(SUITE_DESCRIPTION, () => {
    definePull(tree, s);
    definePush(tree, s);
    defineDiscovery(tree, s);
    defineManagement(tree, s);
  });
  return tree.specs;
}

function categoryOf(texts: readonly string[]): CategoryTitle {
  const title = texts[1];
  const match = Object.values(CATEGORY_TITLES).find((c) => c === title);
  if (match === undefined) throw new Error(`spec outside of a category: ${texts.join(' ')}`);
  return match;
}

async function runSpec(spec: SpecDef): Promise<ConformanceResult> {
  const warnings: string[] = [];
  const started = Date.now();
  const base = { category: categoryOf(spec.texts), name: spec.texts.join(' ') };
  const finish = (r: Omit<ConformanceResult, 'category' | 'name' | 'durationMs' | 'warnings'>): ConformanceResult => ({
    ...base,
    ...r,
    ...(warnings.length > 0 ? { warnings } : {}),
    durationMs: Date.now() - started,
  });
  try {
    await spec.body((message) => warnings.push(message));
    return finish({ passed: true, outcome: 'passed' });
  } catch (err) {
    if (err instanceof SkipSignal) return finish({ passed: false, skipped: true, outcome: 'skipped', error: err.message });
    return finish({ passed: false, outcome: 'failed', error: describeError(err) });
  }
}

function describeError(err: unknown): string {
  if (err instanceof ExpectationFailure) return err.message;
  if (err instanceof JsonDecodeError) return `unexpected JSON decoding error: ${err.message}`;
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? ` (${err.cause.message})` : '';
    return `unexpected error: ${err.message}${cause}`;
  }
  return `unexpected error: ${String(err)}`;
}

/**
 * Runs the whole suite sequentially (specs depend on each other's state) and
 * returns one result per spec, in order. Disabled categories still produce
 * their specs, as skipped, so the total is always the same (79).
 */
export async function runConformance(opts: ConformanceOptions): Promise<ConformanceResult[]> {
  const suite = resolveSuite(opts);
  const results: ConformanceResult[] = [];
  try {
    for (const spec of listSpecs(suite)) {
      const result = await runSpec(spec);
      results.push(result);
      opts.onResult?.(result);
    }
  } finally {
    suite.client.close();
  }
  return results;
}

/** Maps the original's environment variables onto options; unset categories default to on here. */
export function optionsFromEnv(env: NodeJS.ProcessEnv): ConformanceOptions {
  const flag = (name: string): boolean => (env[name] === undefined ? true : parseGoBool(env[name]));
  const automatic = env.OCI_AUTOMATIC_CROSSMOUNT;
  const deleteFirst = env.OCI_DELETE_MANIFEST_BEFORE_BLOBS;
  return {
    rootUrl: env.OCI_ROOT_URL ?? '',
    namespace: env.OCI_NAMESPACE ?? '',
    crossmountNamespace: env.OCI_CROSSMOUNT_NAMESPACE ?? '',
    categories: {
      pull: flag('OCI_TEST_PULL'),
      push: flag('OCI_TEST_PUSH'),
      contentDiscovery: flag('OCI_TEST_CONTENT_DISCOVERY'),
      contentManagement: flag('OCI_TEST_CONTENT_MANAGEMENT'),
    },
    username: env.OCI_USERNAME ?? '',
    password: env.OCI_PASSWORD ?? '',
    authScope: env.OCI_AUTH_SCOPE ?? '',
    deleteManifestBeforeBlobs: deleteFirst === undefined ? true : parseGoBool(deleteFirst),
    automaticCrossmount: automatic === undefined ? undefined : parseGoBool(automatic),
    tagName: env.OCI_TAG_NAME ?? '',
    manifestDigest: env.OCI_MANIFEST_DIGEST ?? '',
    blobDigest: env.OCI_BLOB_DIGEST ?? '',
    tagList: env.OCI_TAG_LIST ?? '',
  };
}
