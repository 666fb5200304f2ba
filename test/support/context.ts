/**
 * The integration harness: an app built by the real factory on a real database, with a
 * clock the test sets. SQLite in memory always; PostgreSQL, in a database made for this
 * run and dropped after it, when LATCHKEY_TEST_POSTGRES_URL is set (STYLE.md §12).
 */
import { Writable } from 'node:stream';
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import pg from 'pg';
import pino from 'pino';
import { sql } from 'kysely';
import { after } from 'node:test';
import { buildApp, LOG_REDACT_PATHS } from '../../src/server/app.js';
import { createSecretBox } from '../../src/server/core/secret-box.js';
import { boundHasher, createArgon2Hasher, OWASP_ARGON2ID, type PasswordHasher } from '../../src/server/core/passwords.js';
import { loadConfig, type Config } from '../../src/server/core/config.js';
import { openDatabase, type DatabaseOptions } from '../../src/server/db/connect.js';
import { migrateToLatest } from '../../src/server/db/migrate.js';
import type { Db } from '../../src/server/db/schema.js';
import type { Deps } from '../../src/server/db/deps.js';
import type { FactorRegistry } from '../../src/server/authenticators/registry.js';
import { cryptoRandom, type Clock, type RandomSource } from '../../src/server/core/ports.js';
import { createAdministrator } from '../../src/server/admins/service.js';

export type DialectName = 'sqlite' | 'postgres';

export function dialects(): DialectName[] {
  return process.env.LATCHKEY_TEST_POSTGRES_URL ? ['sqlite', 'postgres'] : ['sqlite'];
}

export class TestClock implements Clock {
  constructor(private current = Date.parse('2026-11-27T12:00:00.000Z')) {}
  now(): number {
    return this.current;
  }
  advance(ms: number): void {
    this.current += ms;
  }
  set(ms: number): void {
    this.current = ms;
  }
}

export interface TestDatabase {
  db: Db;
  url: string;
  close(): Promise<void>;
}

/** A fresh, migrated database of the given dialect. */
export async function createTestDatabase(dialect: DialectName, options: DatabaseOptions = {}): Promise<TestDatabase> {
  if (dialect === 'sqlite') {
    const db = openDatabase({ dialect: 'sqlite', filename: ':memory:' }, options);
    await migrateToLatest(db);
    return { db, url: 'sqlite::memory:', close: () => db.destroy() };
  }
  const url = await createPostgresDatabase();
  const db = openDatabase({ dialect: 'postgres', connectionString: url }, options);
  await migrateToLatest(db);
  return {
    db,
    url,
    close: async () => {
      await db.destroy();
      await dropPostgresDatabase(url);
    },
  };
}

export async function createPostgresDatabase(): Promise<string> {
  const adminUrl = process.env.LATCHKEY_TEST_POSTGRES_URL;
  if (!adminUrl) throw new Error('LATCHKEY_TEST_POSTGRES_URL is not set');
  const name = `latchkey_test_${nodeRandomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.href;
}

export async function dropPostgresDatabase(url: string): Promise<void> {
  const adminUrl = process.env.LATCHKEY_TEST_POSTGRES_URL!;
  const name = new URL(url).pathname.slice(1);
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

export const TEST_PUBLIC_URL = 'http://latchkey.test';

/** Everything the app writes to its log, as text, to search for secrets. */
export class LogCapture extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: string, callback: () => void): void {
    this.text += chunk.toString();
    callback();
  }
}

export interface TestContext {
  app: FastifyInstance;
  deps: Deps;
  db: Db;
  /** Where the database is, for a second connection to it (another instance). */
  databaseUrl: string;
  clock: TestClock;
  config: Config;
  logs: LogCapture;
  close(): Promise<void>;
}

export interface ContextOptions {
  env?: Record<string, string>;
  /** Plugins and a query log for the database, such as the statement meter. */
  database?: DatabaseOptions;
  random?: RandomSource;
  hasher?: PasswordHasher;
  /** The kinds of second factor the app runs with (a test's own kind); the built-in ones otherwise. */
  factors?: FactorRegistry;
}

/**
 * argon2id at its smallest cost: the same code path as production (normalisation, the
 * encoded hash, verification), at a fraction of a millisecond. The hasher's own tests, the
 * attack-list tests that time or inspect hashing, and the bench use `productionHasher()`.
 */
export const TEST_ARGON2ID = { memoryCost: 64, timeCost: 1, parallelism: 1 } as const;
const fastHasher = createArgon2Hasher(TEST_ARGON2ID);
/** The OWASP parameters, as a server uses them, bounded as one server bounds them. */
export function productionHasher(): PasswordHasher {
  return boundHasher(createArgon2Hasher(OWASP_ARGON2ID));
}

/**
 * Built apps kept for the rest of the test file, by dialect and settings. Building one
 * (routes, schemas, a migrated database) costs 0.3–0.7 s, a test a few milliseconds, so
 * each file builds an app once and `close()` gives it back with its data reset: every table
 * emptied and refilled with what the migrations put there, the clock, logs, metrics and the
 * deps as they were built. An app a test changed beyond that (closed it, listened with it,
 * or lost its database) is closed instead. A context with its own database options, random
 * source or hasher is built for its test alone, as before.
 */
const idle = new Map<string, Pooled[]>();
const everyPooled = new Set<Pooled>();

interface Pooled {
  key: string;
  context: TestContext;
  closeForReal(): Promise<void>;
  reset(): Promise<void>;
}

after(async () => {
  for (const pooled of everyPooled) await pooled.closeForReal().catch(() => undefined);
  everyPooled.clear();
  idle.clear();
});

export async function createTestContext(dialect: DialectName, options: ContextOptions = {}): Promise<TestContext> {
  const shareable = options.database === undefined && options.random === undefined && options.hasher === undefined && options.factors === undefined;
  if (!shareable) return buildTestContext(dialect, options);
  const key = `${dialect} ${JSON.stringify(Object.entries(options.env ?? {}).sort())}`;
  const reused = idle.get(key)?.pop();
  const pooled = reused ?? (await buildPooled(key, dialect, options));
  return { ...pooled.context, close: () => giveBack(pooled) };
}

async function giveBack(pooled: Pooled): Promise<void> {
  try {
    await pooled.reset();
  } catch {
    everyPooled.delete(pooled);
    await pooled.closeForReal().catch(() => undefined);
    return;
  }
  const list = idle.get(pooled.key) ?? [];
  list.push(pooled);
  idle.set(pooled.key, list);
}

async function buildPooled(key: string, dialect: DialectName, options: ContextOptions): Promise<Pooled> {
  const context = await buildTestContext(dialect, options);
  const seeded = await snapshotTables(context.db, dialect);
  const builtAt = context.clock.now();
  const builtDeps = { ...context.deps };
  let appClosed = false;
  // A test that closes the app itself leaves one that cannot serve the next test.
  const closeApp = context.app.close.bind(context.app);
  context.app.close = ((...args: never[]) => {
    appClosed = true;
    return (closeApp as (...a: never[]) => unknown)(...args);
  }) as typeof context.app.close;
  const pooled: Pooled = {
    key,
    context,
    closeForReal: context.close,
    async reset() {
      if (appClosed || context.app.server.listening) throw new Error('this app cannot be reused');
      await restoreTables(context.db, dialect, seeded);
      context.clock.set(builtAt);
      context.logs.text = '';
      for (const name of Object.keys(context.deps) as Array<keyof Deps>) if (!(name in builtDeps)) delete context.deps[name];
      Object.assign(context.deps, builtDeps);
      context.deps.metrics?.registry.resetMetrics();
    },
  };
  everyPooled.add(pooled);
  return pooled;
}

type Snapshot = Map<string, Array<Record<string, unknown>>>;

/**
 * Every table's rows as the migrations left them (the policy row, say), and Kysely's own
 * record of the migrations applied: a test that un-applies one (probes.test.ts) leaves the
 * next test, in the same process, a database that is migrated again.
 */
async function snapshotTables(db: Db, dialect: DialectName): Promise<Snapshot> {
  const snapshot: Snapshot = new Map();
  for (const table of await dataTables(db, dialect)) {
    const rows = await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(db);
    snapshot.set(table, rows.rows);
  }
  return snapshot;
}

async function dataTables(db: Db, dialect: DialectName): Promise<string[]> {
  const rows =
    dialect === 'sqlite'
      ? await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`.execute(db)
      : await sql<{ name: string }>`select tablename as name from pg_tables where schemaname = current_schema()`.execute(db);
  return rows.rows.map((row) => row.name).sort();
}

async function restoreTables(db: Db, dialect: DialectName, snapshot: Snapshot): Promise<void> {
  const tables = [...snapshot.keys()];
  if (dialect === 'sqlite') {
    // Foreign keys are checked per statement; with them off, the order of the deletes is free.
    await sql`pragma foreign_keys = off`.execute(db);
    try {
      for (const table of tables) await sql`delete from ${sql.table(table)}`.execute(db);
      await sql`delete from sqlite_sequence`.execute(db).catch(() => undefined);
      await refill(db, snapshot);
    } finally {
      await sql`pragma foreign_keys = on`.execute(db);
    }
    return;
  }
  await sql`truncate ${sql.join(tables.map((table) => sql.table(table)))} restart identity cascade`.execute(db);
  await refill(db, snapshot);
}

async function refill(db: Db, snapshot: Snapshot): Promise<void> {
  for (const [table, rows] of snapshot) {
    if (rows.length > 0) await db.insertInto(table as never).values(rows as never).execute();
  }
}

async function buildTestContext(dialect: DialectName, options: ContextOptions): Promise<TestContext> {
  const database = await createTestDatabase(dialect, options.database);
  const config = loadConfig({
    LATCHKEY_PUBLIC_URL: TEST_PUBLIC_URL,
    LATCHKEY_DATA_DIR: '/nonexistent',
    LATCHKEY_SECRET_KEY: nodeRandomBytes(32).toString('base64'),
    ...options.env,
  });
  const clock = new TestClock();
  const logs = new LogCapture();
  const logger = pino({ level: 'debug', redact: { paths: LOG_REDACT_PATHS, censor: '[redacted]' } }, logs);
  const random = options.random ?? cryptoRandom;
  const deps: Deps = {
    db: database.db,
    config,
    clock,
    random,
    // Each app gets its own bound, as each server process has.
    hasher: options.hasher ?? boundHasher(fastHasher),
    secretBox: createSecretBox(random, Buffer.from(config.secretKey!, 'base64')),
    logger,
    ...(options.factors ? { factors: options.factors } : {}),
  };
  const app = await buildApp(deps);
  await app.ready();
  return {
    app,
    deps,
    db: database.db,
    databaseUrl: database.url,
    clock,
    config,
    logs,
    close: async () => {
      await app.close();
      await database.close();
    },
  };
}

export const STRONG_PASSWORD = 'correct horse battery staple';

export async function seedAdmin(
  ctx: TestContext,
  input: { email: string; name?: string; password?: string | null; mfaRequired?: boolean; role?: 'administrator' | 'help_desk' | 'read_only' },
) {
  const password = input.password === undefined ? STRONG_PASSWORD : input.password;
  const { admin } = await createAdministrator(ctx.deps, { adminId: null, ip: null }, {
    email: input.email,
    name: input.name ?? input.email.split('@')[0]!,
    mfaRequired: input.mfaRequired ?? false,
    ...(input.role ? { role: input.role } : {}),
    passwordHash: password === null ? null : await ctx.deps.hasher.hash(password),
  });
  return admin;
}

/** The cookie a response set, as a `name=value` pair for the next request. */
export function sessionCookieFrom(response: LightMyRequestResponse): string | undefined {
  const cookie = response.cookies.find((c) => c.name.endsWith('latchkey_session') && c.value !== '');
  return cookie ? `${cookie.name}=${cookie.value}` : undefined;
}

export async function login(ctx: TestContext, email: string, password = STRONG_PASSWORD): Promise<string> {
  const response = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password } });
  const cookie = sessionCookieFrom(response);
  if (response.statusCode !== 200 || !cookie) throw new Error(`login failed: ${response.statusCode} ${response.body}`);
  return cookie;
}
