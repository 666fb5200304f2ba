/**
 * Opens the database named by the configuration: SQLite through better-sqlite3 (the
 * embedded default) or PostgreSQL through pg. Both are reached only through Kysely.
 */
import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import {
  CompiledQuery,
  Kysely,
  PostgresDialect,
  SqliteAdapter,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type DialectAdapter,
  type Driver,
  type KyselyPlugin,
  type LogEvent,
  type MigrationLockOptions,
  type SqliteDatabase,
} from 'kysely';
import pg from 'pg';
import type { DatabaseConfig } from '../core/config.js';
import type { Database, Db } from './schema.js';

const PG_INT8_OID = 20;

export interface DatabaseOptions {
  /** Kysely plugins, such as the statement meter of db/meter.ts. */
  plugins?: KyselyPlugin[];
  /** Kysely's query log: sees every statement, `begin` and `commit` included. */
  log?: (event: LogEvent) => void;
}

export function openDatabase(config: DatabaseConfig, options: DatabaseOptions = {}): Db {
  const extras = { plugins: options.plugins ?? [], ...(options.log ? { log: options.log } : {}) };
  if (config.dialect === 'postgres') {
    const pool = new pg.Pool({
      connectionString: config.connectionString,
      max: 10,
      // Times are stored as bigint milliseconds, well inside Number's exact range.
      types: {
        getTypeParser: (oid: number, format?: any) =>
          oid === PG_INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format),
      },
    });
    // An idle client that loses its connection emits 'error'; without a listener that
    // would end the process. The next query opens a fresh connection instead.
    pool.on('error', () => {});
    return new Kysely<Database>({ dialect: new PostgresDialect({ pool }), ...extras });
  }
  if (config.filename !== ':memory:') {
    // The file holds password hashes and the audit log: the server's user's only. SQLite
    // would create it 0644; made 0600 here first, its -wal and -shm files take its mode.
    fs.mkdirSync(path.dirname(config.filename), { recursive: true, mode: 0o700 });
    fs.closeSync(fs.openSync(config.filename, 'a', 0o600));
  }
  const sqlite = new SQLite(config.filename);
  // Several processes (two instances, a CLI beside the server) may write; wait for the lock
  // instead of failing. Set first: switching to WAL takes a lock another process may hold
  // while it opens the same file, and without a timeout that is SQLITE_BUSY at start.
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('synchronous = NORMAL');
  return new Kysely<Database>({ dialect: new MigrationSafeSqliteDialect({ database: withStatementCache(sqlite) }), ...extras });
}

/** Distinct statements the server runs are a few hundred; past this, the least recent go. */
const STATEMENT_CACHE_SIZE = 1000;

/**
 * Kysely's SQLite driver prepares every query it runs, and better-sqlite3 compiles SQL on
 * each prepare. The server runs the same statements again and again, so the compiled ones
 * are kept (least recently used first out). SQLite recompiles a kept statement by itself
 * when a migration changes the schema. Statements run to completion one at a time here (no
 * iterators), so one may be reused by the next query.
 */
function withStatementCache(sqlite: SQLite.Database): SqliteDatabase {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => void sqlite.close(),
    prepare(sql: string) {
      let statement = cache.get(sql);
      if (statement) {
        cache.delete(sql);
      } else {
        statement = sqlite.prepare(sql);
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      }
      cache.set(sql, statement);
      return statement as unknown as ReturnType<SqliteDatabase['prepare']>;
    },
  };
}

/**
 * Kysely's SQLite adapter assumes one process and runs migrations without a transaction or
 * a lock, so two processes migrating one new file both try to create the tables. SQLite
 * does support transactional DDL: run each migration batch in a transaction whose first
 * statement is a write, which takes the database's write lock (waiting out another
 * migrating process through busy_timeout) before anything is read.
 */
class MigrationSafeSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
  override async acquireMigrationLock(db: Kysely<any>, options: MigrationLockOptions): Promise<void> {
    await db.updateTable(options.lockTable).set({ is_locked: 1 }).where('id', '=', options.lockRowId).execute();
  }
  override async releaseMigrationLock(db: Kysely<any>, options: MigrationLockOptions): Promise<void> {
    await db.updateTable(options.lockTable).set({ is_locked: 0 }).where('id', '=', options.lockRowId).execute();
  }
}

/**
 * Every transaction Latchkey opens writes. `BEGIN IMMEDIATE` takes SQLite's write lock at
 * the start (waiting out another process through busy_timeout), so a transaction that reads
 * before it writes never fails half-way with SQLITE_BUSY when another process wrote in
 * between, and transactions of several processes on one file run one after another.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class MigrationSafeSqliteDialect extends SqliteDialect {
  readonly #config: ConstructorParameters<typeof SqliteDialect>[0];
  constructor(config: ConstructorParameters<typeof SqliteDialect>[0]) {
    super(config);
    this.#config = config;
  }
  override createAdapter(): DialectAdapter {
    return new MigrationSafeSqliteAdapter();
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }
}
