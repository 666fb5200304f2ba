/**
 * `latchkey backup` and `latchkey restore` for the embedded SQLite database.
 *
 * A backup is made with SQLite's online backup API (better-sqlite3's `backup`) while the
 * server goes on writing: the pages are copied in one step, inside one read transaction, so
 * the copy is the database as it was at one moment (in WAL mode writers are not held up).
 * A restore checks the file first (a SQLite database, intact, Latchkey's, from this version
 * or an earlier one, sealed with a key this configuration holds), keeps the current database
 * aside rather than deleting it, and then brings the restored one up to date.
 *
 * On PostgreSQL, pg_dump does this job, and the command prints how to call it.
 */
import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';

export class BackupError extends Error {}

export interface BackupSummary {
  file: string;
  bytes: number;
  /** The last migration applied in it: the version of its schema. */
  schema: string;
  administrators: number;
  auditEvents: number;
  /** The id of the key its secrets are sealed with (not the key). */
  secretKeyId: string | null;
}

/** Copies the database at `source` to the new file `target` (0600), and checks the copy. */
export async function backupSqlite(source: string, target: string, knownMigrations: readonly string[]): Promise<BackupSummary> {
  if (!fs.existsSync(source)) throw new BackupError(`There is no database at ${source} to back up.`);
  if (fs.existsSync(target)) throw new BackupError(`${target} already exists; give a new file name (a backup never overwrites a file).`);
  const partial = `${target}.partial`;
  // The copy holds password hashes and the audit log: made private before a page is written.
  fs.rmSync(partial, { force: true });
  fs.closeSync(fs.openSync(partial, 'wx', 0o600));
  const database = new SQLite(source, { fileMustExist: true });
  try {
    database.pragma('busy_timeout = 5000');
    // All remaining pages in each step: one step, so no write lands between two parts of the copy.
    await database.backup(partial, { progress: ({ totalPages }) => Math.max(totalPages, 100) });
  } catch (error) {
    fs.rmSync(partial, { force: true });
    throw new BackupError(`The backup failed: ${(error as Error).message}`);
  } finally {
    database.close();
  }
  try {
    const summary = inspectSqliteBackup(partial, knownMigrations);
    fs.renameSync(partial, target);
    return { ...summary, file: target };
  } catch (error) {
    fs.rmSync(partial, { force: true });
    throw error;
  }
}

/**
 * What a backup file holds, after checking it is an intact Latchkey database this version
 * can run: `PRAGMA integrity_check`, Latchkey's tables, and no migration unknown here.
 */
export function inspectSqliteBackup(file: string, knownMigrations: readonly string[]): BackupSummary {
  if (!fs.existsSync(file)) throw new BackupError(`There is no file ${file}.`);
  let database: SQLite.Database;
  try {
    database = new SQLite(file, { readonly: true, fileMustExist: true });
  } catch (error) {
    throw new BackupError(`${file} cannot be opened as a SQLite database: ${(error as Error).message}`);
  }
  try {
    let integrity: string;
    try {
      integrity = String(database.pragma('integrity_check', { simple: true }));
    } catch (error) {
      throw new BackupError(`${file} is not a SQLite database (${(error as Error).message}).`);
    }
    if (integrity !== 'ok') throw new BackupError(`${file} is damaged: SQLite's integrity check says ${integrity}.`);
    const tables = new Set((database.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map((row) => row.name));
    for (const table of ['kysely_migration', 'admins', 'settings', 'audit_events']) {
      if (!tables.has(table)) throw new BackupError(`${file} is a SQLite database but not a Latchkey one (it has no ${table} table).`);
    }
    const applied = (database.prepare('SELECT name FROM kysely_migration ORDER BY name').all() as Array<{ name: string }>).map((row) => row.name);
    const unknown = applied.filter((name) => !knownMigrations.includes(name));
    if (unknown.length > 0) {
      throw new BackupError(`${file} was made by a newer Latchkey (its schema has ${unknown.join(', ')}); restore it with that version or a later one.`);
    }
    const count = (table: string) => Number((database.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n);
    const key = database.prepare("SELECT value FROM settings WHERE name = 'secret_key_id'").get() as { value: string } | undefined;
    return {
      file,
      bytes: fs.statSync(file).size,
      schema: applied.at(-1) ?? '(none)',
      administrators: count('admins'),
      auditEvents: count('audit_events'),
      secretKeyId: key?.value ?? null,
    };
  } finally {
    database.close();
  }
}

export interface RestoreOutcome {
  summary: BackupSummary;
  /** Where the database that was there before now is, or null when there was none. */
  keptAside: string | null;
}

/**
 * Puts the backup `file` in place of the database at `target`. The caller has checked the
 * file (inspectSqliteBackup), the key, and that no server is using `target`. The database
 * that was there is checkpointed and renamed to `{target}.before-restore-{stamp}`.
 */
export async function restoreSqlite(file: string, target: string, summary: BackupSummary, stamp: string): Promise<RestoreOutcome> {
  fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
  const incoming = `${target}.restoring`;
  fs.rmSync(incoming, { force: true });
  fs.closeSync(fs.openSync(incoming, 'wx', 0o600));
  const source = new SQLite(file, { readonly: true, fileMustExist: true });
  try {
    await source.backup(incoming, { progress: ({ totalPages }) => Math.max(totalPages, 100) });
  } catch (error) {
    fs.rmSync(incoming, { force: true });
    throw new BackupError(`The restore failed before anything was replaced: ${(error as Error).message}`);
  } finally {
    source.close();
  }
  let keptAside: string | null = null;
  if (fs.existsSync(target)) {
    // Folds the write-ahead log into the file, so the database kept aside is whole by itself.
    const current = new SQLite(target, { fileMustExist: true });
    try {
      current.pragma('busy_timeout = 5000');
      current.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      current.close();
    }
    keptAside = `${target}.before-restore-${stamp}`;
    fs.renameSync(target, keptAside);
  }
  // A write-ahead log left beside the file belongs to the database kept aside, never to this one.
  for (const suffix of ['-wal', '-shm', '-journal']) fs.rmSync(`${target}${suffix}`, { force: true });
  fs.renameSync(incoming, target);
  return { summary: { ...summary, file }, keptAside };
}

/** The pg_dump and pg_restore commands for a PostgreSQL database, without its password. */
export function postgresBackupAdvice(connectionString: string, file: string): string {
  const url = new URL(connectionString);
  const hadPassword = url.password !== '';
  url.password = '';
  const target = JSON.stringify(url.href);
  const quotedFile = JSON.stringify(file);
  return [
    'On PostgreSQL, back up with pg_dump (it takes a consistent snapshot while instances run):',
    `  pg_dump --format=custom --file=${quotedFile} ${target}`,
    'and restore into an empty database, with every instance stopped, with:',
    `  pg_restore --no-owner --dbname=${target} ${quotedFile}`,
    ...(hadPassword ? ['Give the password in PGPASSWORD or ~/.pgpass; it is not printed here.'] : []),
    'Keep the secret key (LATCHKEY_SECRET_KEY) with the backup, apart from it: the TOTP seeds and queued mail in it open with that key only.',
  ].join('\n');
}
