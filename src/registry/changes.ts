import type { ChangeAction } from '../config/schema.js';

export type { ChangeAction } from '../config/schema.js';

/** Who made a change: a signed-in user, a robot token, or nobody in particular. */
export type Actor = { kind: 'anonymous' } | { kind: 'user' | 'robot'; name: string };

/** Who asked for a change and through which address, as the route saw the request (plain data: the rules never see a request). */
export interface ChangeSource {
  actor: Actor;
  /** The request id that the access log shows, to match an event with its log line. */
  requestId: string;
  /** The Host the client used (the forwarded one behind a trusted proxy). */
  host: string;
  /** `http(s)://host`, for absolute URLs. */
  origin: string;
}

/** A manifest pushed, or a manifest or tag deleted, after the change is committed. */
export interface ManifestChange {
  action: ChangeAction;
  repository: string;
  /** The tag pushed or deleted; none for a push or delete by digest. */
  tag: string | undefined;
  digest: string;
  mediaType: string;
  artifactType: string | undefined;
  size: number;
  /** When the manifest carries a Helm chart. */
  chart: { name: string; version: string } | undefined;
  source: ChangeSource;
  /** When the change was committed (ms since the epoch). */
  at: number;
}

/** Told of every committed change. `changed` must return at once: the request that made the change is still waiting. */
export interface ChangeListener {
  /** Whether a change of this kind to this repository is of interest, so that describing it can be skipped when not. */
  wants(action: ChangeAction, repository: string): boolean;
  changed(change: ManifestChange): void;
}

/** For tools that change nothing anyone listens to (`chartroom gc`, tests of the rules alone). */
export const noChangeListener: ChangeListener = { wants: () => false, changed: () => undefined };
