import type { ChartMetadata } from '../charts/chart-yaml.js';
import type { UploadState } from '../storage/blob-store.js';

/**
 * Everything Chartroom knows besides blob bytes. Each method is one transaction; methods return
 * promises so that a networked database can implement the same interface later.
 */
export interface Metadata {
  listRepositories(page: PageRequest): Promise<string[]>;
  repositoryExists(repository: string): Promise<boolean>;

  /** Size of a blob as seen from a repository: undefined unless the repository links it. */
  linkedBlob(repository: string, digest: string): Promise<{ size: number } | undefined>;
  /** Links an existing blob into a repository (cross-repository mount); false if `from` lacks it. */
  mountBlob(repository: string, digest: string, from: string): Promise<boolean>;
  unlinkBlob(repository: string, digest: string): Promise<boolean>;

  createUpload(upload: UploadRecord): Promise<void>;
  getUpload(id: string): Promise<UploadRecord | undefined>;
  /**
   * Records that an upload grew from `from` to `to` bytes, with the blob store's state for it;
   * false (and nothing changed) when the session is gone or no longer at `from`.
   */
  advanceUpload(id: string, from: number, to: number, state: UploadState, updatedAt: number): Promise<boolean>;
  deleteUpload(id: string): Promise<boolean>;
  /**
   * Ends an upload: removes its session and records the blob, linked into the repository.
   * `fileIsThere` is asked under the lock garbage collection takes to remove files; when it
   * says no (a collection removed the stored copy meanwhile) nothing changes and BlobVanishedError is thrown.
   */
  completeUpload(id: string, repository: string, blob: { digest: string; size: number }, fileIsThere: BlobCheck): Promise<void>;
  /** Records a blob that arrived without a session (already stored) and links it; see completeUpload. */
  linkNewBlob(repository: string, blob: { digest: string; size: number }, fileIsThere: BlobCheck): Promise<void>;
  staleUploads(updatedBefore: number): Promise<UploadRecord[]>;
  /** Upload ids with a session row, for reconciling the uploads folder. */
  uploadIds(): Promise<Set<string>>;

  /** Stores a manifest (and its tag); fails with the references the repository lacks. */
  putManifest(manifest: NewManifest): Promise<PutManifestResult>;
  getManifest(repository: string, reference: ManifestReference): Promise<StoredManifest | undefined>;
  /** Removes a manifest and every tag that points at it. */
  deleteManifest(repository: string, digest: string): Promise<boolean>;
  deleteTag(repository: string, tag: string): Promise<boolean>;
  /** Undefined when the repository is unknown. */
  listTags(repository: string, page: PageRequest): Promise<string[] | undefined>;
  listReferrers(repository: string, subject: string, artifactType?: string): Promise<Descriptor[]>;

  /** The chart a manifest carries, if it is one. */
  chartOfManifest(repository: string, digest: string): Promise<ChartRecord | undefined>;
  /** Visible chart versions of a namespace (or of one chart in it), without README and values. */
  listChartVersions(namespace: string, name?: string): Promise<ChartVersion[]>;
  /**
   * Visible chart versions of a namespace in pages, grouped by repository (a repository's
   * versions are contiguous); pass the returned cursor to get the next page.
   */
  listChartVersionPage(namespace: string, cursor: ChartCursor | undefined, limit: number): Promise<{ versions: ChartVersion[]; next?: ChartCursor }>;
  /** Visible chart versions held by one repository, without README and values. */
  listRepositoryCharts(repository: string): Promise<ChartVersion[]>;
  /** One visible chart version, with README and values. */
  getChartVersion(namespace: string, name: string, version: string): Promise<ChartVersion | undefined>;
  /** Namespaces that hold visible charts, with how many charts each. */
  listChartNamespaces(): Promise<{ namespace: string; charts: number }[]>;

  /** Charts whose latest text matches, ranked, filtered and paged (see ChartSearchQuery). */
  searchCharts(query: ChartSearchQuery): Promise<ChartSearchPage>;
  /** The distinct lower-case names of indexed charts, for typo-tolerant search. */
  chartNames(): Promise<string[]>;
  /** Rebuilds the search index from the chart rows; returns how many charts it holds. */
  rebuildSearchIndex(): Promise<number>;

  /** Garbage collection: blobs no manifest references, neither stored nor linked since `before`, in digest order. */
  garbageBlobs(after: string, before: number, limit: number): Promise<BlobRecord[]>;
  /** Forgets those blobs (and their links) that are still garbage and returns them. Their files go after, see removeUnrecordedBlob. */
  forgetBlobs(digests: string[], before: number): Promise<string[]>;
  hasBlob(digest: string): Promise<boolean>;
  /** Runs `removeFile` under the lock blob registration takes, unless the blob is recorded or removals are held; true when it ran. */
  removeUnrecordedBlob(digest: string, removeFile: () => void | Promise<void>): Promise<boolean>;
  /** Holds garbage collection's file removals until `until` (or release), e.g. while a backup copies files. */
  holdFileRemovals(name: string, until: number): Promise<void>;
  releaseHold(name: string): Promise<void>;
  fileRemovalsHeld(): Promise<boolean>;
  /**
   * Runs `work` unless another process sharing this store runs work of the same name (garbage
   * collection on several replicas: one sweeps, the others skip); `ran` is false when it did not run.
   */
  runAlone<T>(name: string, work: () => Promise<T>): Promise<{ ran: true; result: T } | { ran: false }>;
  /** Garbage collection: manifests without tags, not in an index, not referring to a live manifest, older than `before`. */
  garbageManifests(after: GarbageManifest | undefined, before: number, limit: number): Promise<GarbageManifest[]>;
  /** Removes the manifest (its chart rows too) if it is still garbage; true when it did. */
  dropGarbageManifest(manifest: GarbageManifest, before: number): Promise<boolean>;

  createRobotToken(token: RobotToken): Promise<boolean>;
  findRobotToken(name: string): Promise<RobotToken | undefined>;
  listRobotTokens(): Promise<RobotToken[]>;
  revokeRobotToken(name: string, at: number): Promise<boolean>;

  /** Writes a consistent copy of the database to `file` (online) and returns the blobs the copy records. */
  backupTo(file: string): Promise<BlobRecord[]>;

  /** Counts for monitoring (each a cheap aggregate over one table). */
  stats(): Promise<MetadataStats>;
  /** Resolves when the database answers a query (readiness). */
  ping(): Promise<void>;

  /**
   * Calls `listener` after each committed change to a repository's manifests or tags (for caches),
   * this process's at once, other processes' as they are heard of; undefined when anything may
   * have changed (the feed of other processes' changes was broken for a while).
   */
  onChange(listener: (repository: string | undefined) => void): void;
  /**
   * Resolves once every change committed anywhere before the call has reached the listeners: a
   * cache answering after it is as fresh as the database was when the request came.
   */
  syncChanges(): Promise<void>;

  close(): Promise<void>;
}

/** Whether a blob's stored copy is there; the embedded store, whose transactions are synchronous, needs a plain answer. */
export type BlobCheck = () => boolean | Promise<boolean>;

/** Thrown by a metadata store that cannot wait for a blob store inside its transactions. */
export class SynchronousBlobStoreRequired extends Error {
  constructor() {
    super('the embedded metadata store needs a blob store that answers synchronously (the disk store)');
    this.name = 'SynchronousBlobStoreRequired';
  }
}

/** A recorded blob. */
export interface BlobRecord {
  digest: string;
  size: number;
}

/** An unreferenced manifest; `id` is the store's own key, also the cursor for the next page. */
export interface GarbageManifest {
  id: number;
  repository: string;
  digest: string;
  size: number;
}

/** A blob's file went while it was being recorded (a garbage collection removed it); store it again. */
export class BlobVanishedError extends Error {
  constructor(readonly digest: string) {
    super(`the stored copy of ${digest} was removed by garbage collection while it was being recorded`);
    this.name = 'BlobVanishedError';
  }
}

export interface PageRequest {
  /** Most entries to return; undefined means all. */
  limit?: number | undefined;
  /** Return entries that sort after this one. */
  after?: string | undefined;
}

export interface UploadRecord {
  id: string;
  repository: string;
  offset: number;
  /** The blob store's record of the upload so far (see BlobStore.append). */
  state?: UploadState;
  startedAt: number;
  updatedAt: number;
}

export type ManifestReference = { tag: string } | { digest: string };

export interface ManifestRef {
  kind: 'blob' | 'manifest';
  digest: string;
}

export interface NewManifest {
  repository: string;
  /** Chart metadata, stored in the same transaction as the manifest. */
  chart?: ChartRecord | undefined;
  /** Refuse to move a tag that names the version of the chart it points at. */
  chartVersionsImmutable?: boolean;
  digest: string;
  mediaType: string;
  artifactType: string | undefined;
  subject: string | undefined;
  annotations: Record<string, string> | undefined;
  content: Buffer;
  refs: ManifestRef[];
  tag: string | undefined;
  createdAt: number;
}

export type PutManifestResult =
  | { ok: true }
  | { ok: false; reason: 'missing'; missing: ManifestRef[] }
  | { ok: false; reason: 'immutable'; existing: string };

/** What Chartroom keeps of a chart; `metadata` is Chart.yaml's known fields. */
export interface ChartRecord {
  namespace: string;
  name: string;
  version: string;
  versionTag: string;
  metadata: ChartMetadata;
  chartDigest: string;
  chartSize: number;
  provDigest: string | undefined;
  readme: string | undefined;
  values: string | undefined;
  valuesSchema: string | undefined;
  createdAt: number;
}

/** A visible chart version: its record plus where it lives. */
export interface ChartVersion extends ChartRecord {
  repository: string;
  manifestDigest: string;
}

export interface StoredManifest {
  digest: string;
  mediaType: string;
  size: number;
  content: Buffer;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export interface RobotToken {
  name: string;
  /** sha256 hex of the secret; the secret itself is shown once and never stored. */
  secretHash: string;
  scopes: { repository: string; actions: ('pull' | 'push' | 'delete')[] }[];
  createdAt: number;
  expiresAt: number | undefined;
  revokedAt: number | undefined;
}

/** Where a page of chart versions ends (opaque to callers). */
export interface ChartCursor {
  repoId: number;
  manifestId: number;
}

/** A query word and how it may match: any of `words`, each as a whole word or as a prefix. */
export interface SearchTerm {
  words: string[];
  prefix: boolean;
}

export interface ChartSearchQuery {
  /** Every term must match a chart's text; no terms lists every chart by name. */
  terms: SearchTerm[];
  /** The query read as a chart name: charts named so rank first, then names starting with it. */
  nameKey: string;
  repositoryPrefix?: string | undefined;
  /** Lower-case keyword the chart must carry. */
  keyword?: string | undefined;
  /** Lower-case maintainer name or email the chart must list. */
  maintainer?: string | undefined;
  includeDeprecated: boolean;
  /** Show a chart's newest version even when it is a prerelease (otherwise its newest stable one, and no chart without one). */
  includePrerelease: boolean;
  /**
   * For rules the store cannot evaluate itself (semver ranges, access): the version to show for a
   * matching chart, or undefined to leave the chart out. Replaces the `includePrerelease` rule.
   */
  choose?: ((candidate: SearchCandidate) => string | undefined) | undefined;
  /** Only charts with a version of one of these major numbers can be chosen (lets the store skip the rest). */
  majors?: number[] | undefined;
  offset: number;
  limit: number;
  /** Return each hit's README too, for showing where the terms matched. */
  withReadme: boolean;
  /** Return each hit's every version too. */
  withVersions: boolean;
}

export interface SearchCandidate {
  repository: string;
  latest: string;
  latestStable: string | undefined;
  /** Every visible version, newest first. */
  versions: string[];
}

export interface ChartSearchPage {
  /** Matching charts on all pages. */
  total: number;
  hits: ChartSearchHit[];
}

export interface ChartSearchHit {
  repository: string;
  namespace: string;
  name: string;
  description?: string;
  keywords: string[];
  icon?: string;
  home?: string;
  deprecated: boolean;
  updatedAt: number;
  /** The version `choose` picked. */
  version: SearchVersion;
  /** With `withVersions`: every visible version, newest first. */
  versions?: SearchVersion[];
  /** With `withReadme`: the README of the indexed version. */
  readme?: string;
}

export interface SearchVersion {
  version: string;
  appVersion?: string;
  createdAt: number;
  chartDigest: string;
  deprecated: boolean;
}

export interface MetadataStats {
  repositories: number;
  /** Repositories holding at least one chart version. */
  charts: number;
  chartVersions: number;
  blobs: number;
  blobBytes: number;
  uploadsInProgress: number;
}
