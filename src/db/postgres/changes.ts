import type pg from 'pg';
import type { Postgres, Sql } from './connection.js';

const channel = 'chartroom_changes';

/** Tells other replicas, when the transaction commits, that a repository's manifests or tags changed. */
export async function announceChange(tx: Sql, writer: string, repository: string): Promise<void> {
  await tx.run('SELECT pg_notify($1, $2)', [channel, JSON.stringify([writer, repository])]);
}

export interface ChangeFeed {
  /** Resolves once every change committed before the call has reached `onChange`. */
  sync(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Other replicas' changes, as PostgreSQL delivers them to a LISTEN connection when their
 * transactions commit. A query on that same connection is a barrier: the server sends pending
 * notifications before its answer. While the connection is down nothing is known, so caches are
 * told "anything may have changed" (undefined) once it is back.
 */
export function listenForChanges(postgres: Postgres, writer: string, onChange: (repository: string | undefined) => void): ChangeFeed {
  let client: pg.PoolClient | undefined;
  let connecting: Promise<pg.PoolClient> | undefined;
  let closed = false;

  const onNotification = (message: pg.Notification): void => {
    try {
      const [from, repository] = JSON.parse(message.payload ?? '') as [string, string];
      if (from !== writer) onChange(repository);
    } catch {
      onChange(undefined);
    }
  };

  const released = new WeakSet<pg.PoolClient>();
  function drop(connection: pg.PoolClient): void {
    if (client === connection) client = undefined;
    if (released.has(connection)) return;
    released.add(connection);
    connection.release(true);
  }

  async function connect(): Promise<pg.PoolClient> {
    const fresh = await postgres.pool.connect();
    fresh.on('notification', onNotification);
    fresh.on('error', () => drop(fresh));
    await fresh.query(`LISTEN ${channel}`);
    // Whatever changed while nobody listened is unknown.
    onChange(undefined);
    client = fresh;
    return fresh;
  }

  async function listener(): Promise<pg.PoolClient> {
    if (client) return client;
    connecting ??= connect().finally(() => {
      connecting = undefined;
    });
    return connecting;
  }

  // Listen from the start, so that changes reach caches without waiting for a sync.
  void listener().catch(() => undefined);

  async function barrier(): Promise<void> {
    const connection = await listener();
    try {
      await connection.query('SELECT 1');
    } catch {
      // The connection broke: another one starts over from "anything changed".
      drop(connection);
      await (await listener()).query('SELECT 1');
    }
  }

  // A barrier sent before a caller asked covers nothing for it; every caller that asks while one
  // is on its way shares the next one, so a burst of cached reads costs two round trips, not one each.
  let inFlight: Promise<void> | undefined;
  let next: Promise<void> | undefined;
  function shared(): Promise<void> {
    if (!inFlight) {
      inFlight = barrier().finally(() => (inFlight = undefined));
      return inFlight;
    }
    next ??= inFlight.catch(() => undefined).then(() => {
      next = undefined;
      return shared();
    });
    return next;
  }

  return {
    async sync() {
      if (!closed) await shared();
    },
    async close() {
      closed = true;
      const connection = client ?? (await connecting?.catch(() => undefined));
      client = undefined;
      if (connection) {
        connection.off('notification', onNotification);
        await connection.query(`UNLISTEN ${channel}`).catch(() => undefined);
        if (!released.has(connection)) {
          released.add(connection);
          connection.release();
        }
      }
    },
  };
}
