import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

export type Db = Database.Database;

/** `migrations/` sits at the package root, two levels above both `src/db` and `dist/db`. */
const migrationsDir = fileURLToPath(new URL('../../migrations/', import.meta.url));

export type Durability = 'grouped' | 'normal';

const durabilityPragmas: Record<Durability, string> = {
  // Commits write the WAL without fsync; the caller makes them durable (wal-sync.ts) before it
  // acknowledges anything, and leaves checkpoints, which must sync, to a `normal` connection.
  grouped: 'PRAGMA synchronous = OFF; PRAGMA wal_autocheckpoint = 0;',
  // Commits survive a crash of the process; SQLite syncs the WAL and the database around checkpoints.
  normal: 'PRAGMA synchronous = NORMAL;',
};

/** Opens the database in WAL mode and brings the schema up to date. */
export function openDatabase(file: string, durability: Durability): Db {
  const db = new Database(file);
  // PRAGMAs go through exec, which creates no Statement object: on Node ≥ 24.19 the garbage
  // collection of a better-sqlite3 Statement can abort the process (nodejs/node#65446), so the
  // only statements we create are ones that live as long as their connection.
  db.exec(`PRAGMA journal_mode = WAL; ${durabilityPragmas[durability]}`);
  db.exec('PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;');
  migrate(db);
  return db;
}

/**
 * A write transaction that takes the write lock as it begins. A deferred one that reads first and
 * then meets another process's write (`chartroom gc`, `rebuild`, `token`) fails at once with
 * SQLITE_BUSY, busy_timeout or not; an immediate one waits its turn.
 */
export function writeTransaction<F extends (...args: never[]) => unknown>(db: Db, fn: F): Database.Transaction<F>['immediate'] {
  return db.transaction(fn).immediate;
}

/** Statements that must outlive any garbage collection (see openDatabase). */
const retained = new WeakMap<Db, Database.Statement[]>();

export function retain<T extends Database.Statement>(db: Db, statement: T): T {
  retained.set(db, [...(retained.get(db) ?? []), statement]);
  return statement;
}

interface Migration {
  version: number;
  name: string;
  sql: string;
}

export function listMigrations(dir = migrationsDir): Migration[] {
  return readdirSync(dir)
    .flatMap((file) => {
      const match = /^(\d{4})_([a-z0-9_]+)\.sql$/.exec(file);
      return match ? [{ version: Number(match[1]), name: match[2] as string, sql: readFileSync(join(dir, file), 'utf8') }] : [];
    })
    .sort((a, b) => a.version - b.version);
}

/** Applies each numbered migration above `user_version` in its own transaction. */
export function migrate(db: Db, migrations = listMigrations()): void {
  const current = retain(db, db.prepare<[], number>('PRAGMA user_version').pluck()).get() ?? 0;
  for (const migration of migrations) {
    if (migration.version <= current) continue;
    writeTransaction(db, () => {
      db.exec(migration.sql);
      db.exec(`PRAGMA user_version = ${migration.version}`);
    })();
  }
}
