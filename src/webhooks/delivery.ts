import type { Logger } from 'pino';
import type { WebhooksConfig } from '../config/schema.js';

/** How a delivery ended: answered 2xx, given up (after its attempts, or refused), or never sent (queue full, shutdown). */
export type DeliveryOutcome = 'delivered' | 'failed' | 'dropped';

/** One POST to make, perhaps several times. */
export interface Delivery {
  url: string;
  /** What logs may show of the URL. */
  logUrl: string;
  timeoutMs: number;
  headers: Record<string, string>;
  body: string;
  /** The event's id, for log lines. */
  eventId: string;
}

export type DeliverySettings = Pick<WebhooksConfig, 'attempts' | 'backoffSeconds' | 'maxBackoffSeconds' | 'queueSize' | 'concurrency' | 'shutdownSeconds'>;

interface Pending {
  delivery: Delivery;
  /** Arrival order: retries keep their place, so the oldest event is the first dropped. */
  seq: number;
  attempts: number;
  /** Not to be tried before this time (ms); 0 is at once. */
  due: number;
}

type AttemptResult = { ok: true; status: number } | { ok: false; retry: boolean; reason: string; status?: number };

/** A network error's code (ECONNREFUSED, ENOTFOUND, …) rather than fetch's bare "fetch failed". */
function describeError(err: unknown): string {
  const cause = err instanceof Error ? err.cause : undefined;
  if (cause instanceof Error) return (cause as NodeJS.ErrnoException).code ?? cause.message;
  return err instanceof Error ? err.message : String(err);
}

/**
 * Sends deliveries in the background: at most `concurrency` at once, each retried with
 * exponential backoff and jitter on network errors, timeouts, 5xx and 429 (other answers are
 * final), in a bounded queue that drops its oldest entry when full. Nothing here is kept
 * across restarts. A delivery waiting out its backoff holds no slot, so one dead receiver
 * does not stall the others.
 */
export function createDeliveryQueue(settings: DeliverySettings, log: Logger, now: () => number = Date.now) {
  const waiting: Pending[] = [];
  const running = new Set<Promise<void>>();
  const inFlight = new Set<AbortController>();
  const counts: Record<DeliveryOutcome, number> = { delivered: 0, failed: 0, dropped: 0 };
  let seq = 0;
  let timer: NodeJS.Timeout | undefined;
  let closing = false;
  let onIdle: (() => void) | undefined;

  function backoffMs(attempts: number): number {
    const ceiling = Math.min(settings.maxBackoffSeconds, settings.backoffSeconds * 2 ** (attempts - 1)) * 1000;
    // Half fixed, half random: retries of many deliveries spread out instead of arriving together.
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }

  /** Puts an entry in arrival order; past the bound, the oldest goes. */
  function admit(entry: Pending): void {
    let i = waiting.length;
    while (i > 0 && (waiting[i - 1] as Pending).seq > entry.seq) i--;
    waiting.splice(i, 0, entry);
    if (waiting.length <= settings.queueSize) return;
    const oldest = (waiting.shift() as Pending).delivery;
    counts.dropped += 1;
    log.warn({ webhook: oldest.logUrl, eventId: oldest.eventId, queueSize: settings.queueSize }, 'webhook queue full: dropped the oldest pending delivery');
  }

  /** Starts what is due while slots are free, and wakes up again when the next backoff ends. */
  function pump(): void {
    clearTimeout(timer);
    timer = undefined;
    while (running.size < settings.concurrency) {
      const time = now();
      const index = waiting.findIndex((entry) => entry.due <= time);
      if (index < 0) break;
      const [entry] = waiting.splice(index, 1) as [Pending];
      const task: Promise<void> = attempt(entry).finally(() => {
        running.delete(task);
        pump();
      });
      running.add(task);
    }
    if (waiting.length === 0 && running.size === 0) onIdle?.();
    else if (waiting.length > 0 && running.size < settings.concurrency) {
      const next = waiting.reduce((soonest, entry) => Math.min(soonest, entry.due), Infinity);
      // Unref'd: a retry waiting for its turn is no reason to keep the process up.
      timer = setTimeout(pump, Math.max(0, next - now())).unref();
    }
  }

  async function post(delivery: Delivery): Promise<AttemptResult> {
    const controller = new AbortController();
    const timeout = setTimeout(() => controller.abort(`no answer within ${delivery.timeoutMs / 1000} s`), delivery.timeoutMs);
    inFlight.add(controller);
    try {
      const response = await fetch(delivery.url, {
        method: 'POST',
        headers: delivery.headers,
        body: delivery.body,
        signal: controller.signal,
        // A receiver that moved says so with a 3xx; following it would send signed events somewhere not configured.
        redirect: 'manual',
      });
      // The answer's body means nothing here; cancelling it frees the connection.
      await response.body?.cancel();
      const { status } = response;
      if (status >= 200 && status < 300) return { ok: true, status };
      return { ok: false, status, retry: status >= 500 || status === 429, reason: `HTTP ${status}` };
    } catch (err) {
      return { ok: false, retry: true, reason: controller.signal.aborted ? String(controller.signal.reason) : describeError(err) };
    } finally {
      clearTimeout(timeout);
      inFlight.delete(controller);
    }
  }

  async function attempt(entry: Pending): Promise<void> {
    entry.attempts += 1;
    const { delivery } = entry;
    const result = await post(delivery);
    const fields = { webhook: delivery.logUrl, eventId: delivery.eventId, attempt: entry.attempts, status: result.status };
    if (result.ok) {
      counts.delivered += 1;
      log.debug(fields, 'webhook delivered');
    } else if (result.retry && entry.attempts < settings.attempts && !closing) {
      const delay = backoffMs(entry.attempts);
      entry.due = now() + delay;
      admit(entry);
      log.warn({ ...fields, reason: result.reason, retryInMs: Math.round(delay) }, 'webhook delivery failed; retrying');
    } else {
      counts.failed += 1;
      log.error({ ...fields, reason: result.reason }, 'webhook delivery failed; giving up');
    }
  }

  return {
    /** Returns at once; the delivery happens in the background. */
    enqueue(delivery: Delivery): void {
      if (closing) {
        counts.dropped += 1;
        log.warn({ webhook: delivery.logUrl, eventId: delivery.eventId }, 'webhook delivery dropped: shutting down');
        return;
      }
      admit({ delivery, seq: seq++, attempts: 0, due: 0 });
      pump();
    },

    /** Deliveries so far, by outcome. */
    counts: (): Readonly<Record<DeliveryOutcome, number>> => counts,

    /** Deliveries waiting or in flight. */
    pending: (): number => waiting.length + running.size,

    /**
     * Gives every pending delivery one more attempt at once (backoffs are not waited out,
     * failures not retried) for at most `shutdownSeconds`; then aborts what is in flight and
     * drops the rest, so that webhooks never hold a shutdown for long.
     */
    async close(): Promise<void> {
      if (closing) return;
      closing = true;
      for (const entry of waiting) entry.due = 0;
      let deadline: NodeJS.Timeout | undefined;
      const drained = new Promise<boolean>((resolve) => {
        onIdle = () => resolve(true);
        deadline = setTimeout(() => resolve(false), settings.shutdownSeconds * 1000);
      });
      pump();
      const done = await drained;
      clearTimeout(deadline);
      if (done) return;
      const unsent = waiting.splice(0).length;
      counts.dropped += unsent;
      const interrupted = inFlight.size;
      for (const controller of inFlight) controller.abort('stopped at shutdown');
      await Promise.allSettled(running);
      log.warn({ unsent, interrupted, graceSeconds: settings.shutdownSeconds }, 'webhook deliveries still pending at shutdown were dropped');
    },
  };
}

export type DeliveryQueue = ReturnType<typeof createDeliveryQueue>;
