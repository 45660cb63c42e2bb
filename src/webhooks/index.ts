import { createHmac, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { WebhooksConfig } from '../config/schema.js';
import type { ChangeListener, ManifestChange } from '../registry/changes.js';
import { createDeliveryQueue, type DeliveryOutcome } from './delivery.js';
import { compileEndpoint } from './endpoint.js';
import { toEvent, type WebhookEnvelope } from './event.js';

export type { DeliveryOutcome } from './delivery.js';
export type { WebhookEnvelope, WebhookEvent } from './event.js';

/** What metrics read of the webhooks at each scrape. */
export interface WebhookStats {
  deliveries(): Readonly<Record<DeliveryOutcome, number>>;
  pending(): number;
}

export interface Webhooks extends ChangeListener, WebhookStats {
  /** Flushes what is pending, within the configured grace period. */
  close(): Promise<void>;
}

/**
 * Turns each committed change into an event and queues one POST for every endpoint that wants
 * it. The request that made the change never waits for a delivery.
 */
export function createWebhooks(config: WebhooksConfig, log: Logger, userAgent: string): Webhooks {
  const endpoints = config.endpoints.map(compileEndpoint);
  const queue = createDeliveryQueue(config, log);

  return {
    wants: (action, repository) => endpoints.some((endpoint) => endpoint.accepts(action, repository)),

    changed(change: ManifestChange): void {
      const targets = endpoints.filter((endpoint) => endpoint.accepts(change.action, change.repository));
      if (targets.length === 0) return;
      const event = toEvent(change, randomUUID());
      const envelope: WebhookEnvelope = { events: [event] };
      const body = JSON.stringify(envelope);
      for (const endpoint of targets) {
        const signature = endpoint.secret && `sha256=${createHmac('sha256', endpoint.secret).update(body).digest('hex')}`;
        queue.enqueue({
          url: endpoint.url,
          logUrl: endpoint.logUrl,
          timeoutMs: endpoint.timeoutMs,
          eventId: event.id,
          body,
          headers: {
            ...endpoint.headers,
            'content-type': 'application/json',
            'user-agent': userAgent,
            'x-chartroom-event': change.action,
            'x-chartroom-event-id': event.id,
            ...(signature ? { 'x-chartroom-signature': signature } : {}),
          },
        });
      }
    },

    deliveries: queue.counts,
    pending: queue.pending,
    close: queue.close,
  };
}
