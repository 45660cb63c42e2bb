import type { Actor, ChangeAction, ManifestChange } from '../registry/changes.js';

/**
 * One event as receivers get it, shaped after distribution's notification events (`target`,
 * `actor`, `request`) so that tools written for those find the fields where they expect them.
 * Fields with no value (a delete by digest has no tag) are left out.
 */
export interface WebhookEvent {
  /** Unique per event; the same in every attempt to deliver it, so receivers can drop repeats. */
  id: string;
  /** When the change was committed, RFC 3339 in UTC. */
  timestamp: string;
  action: ChangeAction;
  target: {
    repository: string;
    tag?: string;
    digest: string;
    mediaType: string;
    artifactType?: string;
    /** The manifest's size in bytes. */
    size: number;
    /** The manifest by digest: `<registry>/v2/<repository>/manifests/<digest>`. */
    url: string;
    /** When the manifest carries a Helm chart. */
    chart?: { name: string; version: string };
  };
  actor: Actor;
  request: { id: string; host: string };
}

/** The body of every delivery: distribution's envelope, here always with one event. */
export interface WebhookEnvelope {
  events: WebhookEvent[];
}

export function toEvent(change: ManifestChange, id: string): WebhookEvent {
  const { source } = change;
  return {
    id,
    timestamp: new Date(change.at).toISOString(),
    action: change.action,
    target: {
      repository: change.repository,
      tag: change.tag,
      digest: change.digest,
      mediaType: change.mediaType,
      artifactType: change.artifactType,
      size: change.size,
      url: `${source.origin}/v2/${change.repository}/manifests/${change.digest}`,
      chart: change.chart,
    },
    actor: source.actor,
    request: { id: source.requestId, host: source.host },
  };
}
