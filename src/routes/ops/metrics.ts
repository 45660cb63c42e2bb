import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Metadata, MetadataStats } from '../../db/metadata.js';
import type { WebhookStats } from '../../webhooks/index.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The route as metrics label it, when the router's own pattern says too little (`/v2/*`). */
    metricsRoute?: string;
  }
}

const durationBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

function contentLength(value: unknown): number {
  const length = Number(value);
  return Number.isFinite(length) && length > 0 ? length : 0;
}

/**
 * Prometheus metrics at `/metrics`: requests by route and status, latency, bytes in and out
 * (by Content-Length), uploads in progress, blob store size, repository and chart counts, webhook
 * deliveries, and the Node process. Registered on the root app so that its hook sees every route.
 */
export function registerMetrics(app: FastifyInstance, metadata: Metadata, webhooks: WebhookStats): void {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry, prefix: 'chartroom_' });
  const requests = new Counter({
    name: 'chartroom_http_requests_total',
    help: 'HTTP requests answered, by method, route and status',
    labelNames: ['method', 'route', 'status'],
    registers,
  });
  const duration = new Histogram({
    name: 'chartroom_http_request_duration_seconds',
    help: 'Time from request to response, by method and route',
    labelNames: ['method', 'route'],
    buckets: durationBuckets,
    registers,
  });
  const received = new Counter({ name: 'chartroom_http_received_bytes_total', help: 'Request body bytes (Content-Length)', labelNames: ['route'], registers });
  const sent = new Counter({ name: 'chartroom_http_sent_bytes_total', help: 'Response body bytes (Content-Length)', labelNames: ['route'], registers });

  // Store figures are read once per scrape, whichever gauge asks first.
  let scrape: Promise<MetadataStats> | undefined;
  const stat = (name: string, help: string, pick: (stats: MetadataStats) => number) =>
    new Gauge({
      name,
      help,
      registers,
      async collect() {
        scrape ??= metadata.stats();
        this.set(pick(await scrape));
      },
    });
  stat('chartroom_uploads_in_progress', 'Open blob upload sessions', (s) => s.uploadsInProgress);
  stat('chartroom_blobs', 'Blobs in the store', (s) => s.blobs);
  stat('chartroom_blob_bytes', 'Bytes of all blobs in the store', (s) => s.blobBytes);
  stat('chartroom_repositories', 'Repositories', (s) => s.repositories);
  stat('chartroom_charts', 'Repositories holding chart versions', (s) => s.charts);
  stat('chartroom_chart_versions', 'Chart versions stored', (s) => s.chartVersions);

  // The webhooks keep their own tallies (they run without a metrics registry); a scrape copies them.
  new Counter({
    name: 'chartroom_webhook_deliveries_total',
    help: 'Webhook deliveries by outcome: delivered (2xx), failed (refused, or out of attempts), dropped (queue full or shutdown)',
    labelNames: ['outcome'],
    registers,
    collect() {
      this.reset();
      for (const [outcome, count] of Object.entries(webhooks.deliveries())) this.inc({ outcome }, count);
    },
  });
  new Gauge({
    name: 'chartroom_webhook_deliveries_pending',
    help: 'Webhook deliveries waiting to be sent or retried, or in flight',
    registers,
    collect() {
      this.set(webhooks.pending());
    },
  });

  // Children per label set, made once: looking labels up by object on every request costs more than the request.
  type Children = {
    count: ReturnType<typeof requests.labels>;
    time: ReturnType<typeof duration.labels>;
    received: ReturnType<typeof received.labels>;
    sent: ReturnType<typeof sent.labels>;
  };
  const children = new Map<string, Children>();
  app.addHook('onResponse', async (request, reply) => {
    const route = request.metricsRoute ?? request.routeOptions.url ?? 'unmatched';
    const key = `${request.method} ${reply.statusCode} ${route}`;
    let child = children.get(key);
    if (!child) {
      child = {
        count: requests.labels({ method: request.method, route, status: String(reply.statusCode) }),
        time: duration.labels({ method: request.method, route }),
        received: received.labels({ route }),
        sent: sent.labels({ route }),
      };
      children.set(key, child);
    }
    child.count.inc();
    child.time.observe(reply.elapsedTime / 1000);
    child.received.inc(contentLength(request.headers['content-length']));
    child.sent.inc(contentLength(reply.getHeader('content-length')));
  });

  app.get('/metrics', { config: { access: 'public' } }, async (_request, reply) => {
    try {
      const text = await registry.metrics();
      return reply.type(registry.contentType).send(text);
    } finally {
      scrape = undefined;
    }
  });
}
