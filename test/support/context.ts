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
import { buildApp, LOG_REDACT_PATHS } from '../../src/server/app.js';
import { createSecretBox } from '../../src/server/core/secret-box.js';
import { boundHasher, createArgon2Hasher, type PasswordHasher } from '../../src/server/core/passwords.js';
import { loadConfig, type Config } from '../../src/server/core/config.js';
import { openDatabase, type DatabaseOptions } from '../../src/server/db/connect.js';
import { migrateToLatest } from '../../src/server/db/migrate.js';
import type { Db } from '../../src/server/db/schema.js';
import type { Deps } from '../../src/server/db/deps.js';
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
}

/** One hasher for the whole test process: the OWASP parameters, as in production. */
const sharedHasher = createArgon2Hasher();
/** Each app gets its own bound, as each server process has. */
const boundedShared = () => boundHasher(sharedHasher);

export async function createTestContext(dialect: DialectName, options: ContextOptions = {}): Promise<TestContext> {
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
    hasher: options.hasher ?? boundedShared(),
    secretBox: createSecretBox(random, Buffer.from(config.secretKey!, 'base64')),
    logger,
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
