import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

/** `migrations/postgres/` at the package root, as for the embedded store's migrations. */
const migrationsDir = fileURLToPath(new URL('../../../migrations/postgres/', import.meta.url));

const int8Oid = 20;

// BIGINT columns (ids, sizes, times in ms) come back as numbers: none of them nears 2^53.
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === int8Oid && format !== 'binary' ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/** A statement runner: the pool (each statement its own transaction) or one transaction's client. */
export interface Sql {
  rows<R>(text: string, values?: unknown[]): Promise<R[]>;
  one<R>(text: string, values?: unknown[]): Promise<R | undefined>;
  /** Runs a statement and returns how many rows it touched. */
  run(text: string, values?: unknown[]): Promise<number>;
}

function runner(target: pg.Pool | pg.PoolClient): Sql {
  return {
    async rows<R>(text: string, values: unknown[] = []) {
      return (await target.query({ text, values })).rows as R[];
    },
    async one<R>(text: string, values: unknown[] = []) {
      return (await target.query({ text, values })).rows[0] as R | undefined;
    },
    async run(text: string, values: unknown[] = []) {
      return (await target.query({ text, values })).rowCount ?? 0;
    },
  };
}

// Deadlocks and serialization failures are PostgreSQL's way of saying "try that again".
const retryable = new Set(['40001', '40P01']);
const maxAttempts = 5;

export interface Postgres {
  pool: pg.Pool;
  /** Statements outside any transaction. */
  sql: Sql;
  /** Runs `work` in one READ COMMITTED transaction, again on a deadlock; rolls back on any error. */
  transaction<T>(work: (tx: Sql) => Promise<T>): Promise<T>;
  /** Runs `work` holding a client of its own (session-level locks, LISTEN). */
  withClient<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface PostgresOptions {
  url: string;
  poolSize: number;
  /** Shown in pg_stat_activity. */
  applicationName?: string;
}

/** Opens a pool and brings the schema up to date (several replicas may start at once: one migrates). */
export async function openPostgres(options: PostgresOptions): Promise<Postgres> {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize,
    application_name: options.applicationName ?? 'chartroom',
    types,
  });
  // An idle client whose connection breaks emits on the pool; without a listener that would end the process.
  pool.on('error', () => undefined);

  async function withClient<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      return await work(client);
    } catch (err) {
      if ((err as { code?: string }).code === undefined) broken = err as Error;
      throw err;
    } finally {
      // A client that failed below SQL (a dropped connection) is not put back.
      client.release(broken);
    }
  }

  async function transaction<T>(work: (tx: Sql) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await withClient(async (client) => {
          await client.query('BEGIN');
          try {
            const result = await work(runner(client));
            await client.query('COMMIT');
            return result;
          } catch (err) {
            await client.query('ROLLBACK').catch(() => undefined);
            throw err;
          }
        });
      } catch (err) {
        if (attempt >= maxAttempts || !retryable.has((err as { code?: string }).code ?? '')) throw err;
      }
    }
  }

  const postgres: Postgres = { pool, sql: runner(pool), transaction, withClient, close: () => pool.end() };
  try {
    await migrate(postgres);
  } catch (err) {
    await pool.end();
    throw err;
  }
  return postgres;
}

interface Migration {
  version: number;
  sql: string;
}

function listMigrations(): Migration[] {
  return readdirSync(migrationsDir)
    .flatMap((file) => {
      const match = /^(\d{4})_[a-z0-9_]+\.sql$/.exec(file);
      return match ? [{ version: Number(match[1]), sql: readFileSync(join(migrationsDir, file), 'utf8') }] : [];
    })
    .sort((a, b) => a.version - b.version);
}

// Any fixed number: it names the lock replicas take while one of them migrates.
const migrationLock = 7_340_181;

async function migrate(postgres: Postgres): Promise<void> {
  await postgres.withClient(async (client) => {
    await client.query('SELECT pg_advisory_lock($1)', [migrationLock]);
    try {
      await client.query('CREATE TABLE IF NOT EXISTS chartroom_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)');
      const applied = new Set((await client.query<{ version: number }>('SELECT version FROM chartroom_migrations')).rows.map((row) => row.version));
      for (const migration of listMigrations()) {
        if (applied.has(migration.version)) continue;
        await client.query('BEGIN');
        try {
          await client.query(migration.sql);
          await client.query('INSERT INTO chartroom_migrations (version, applied_at) VALUES ($1, $2)', [migration.version, Date.now()]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw err;
        }
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [migrationLock]);
    }
  });
}
