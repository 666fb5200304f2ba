/**
 * Backups as an operator makes them: `latchkey backup FILE` while the server takes a write
 * load, `latchkey restore FILE` into a new data folder with the key kept beside it, and a
 * login on the restored instance. Restore refuses what it cannot use, saying why.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import SQLite from 'better-sqlite3';
import { migrations } from '../src/server/db/migrate.js';
import { freePort, runLatchkey, startServer, type RunningServer } from './support/process.js';

/** The schema a backup of this version reports: its newest migration. */
const LATEST_MIGRATION = Object.keys(migrations).sort().at(-1)!;

const PASSWORD = 'ada keeps a long passphrase';

describe('latchkey backup and restore (sqlite)', () => {
  let root: string;
  let source: RunningServer;
  let sourceEnv: Record<string, string>;
  let backupFile: string;
  let loadRequests = 0;
  let auditEventsWhenBackedUp = 0;

  const login = (server: RunningServer, email: string, password: string) =>
    fetch(`${server.baseUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-backup-'));
    // The embedded default: the key is the data folder's secret.key, made at the first start.
    sourceEnv = { LATCHKEY_DATA_DIR: path.join(root, 'source'), LATCHKEY_LOG_LEVEL: 'warn' };
    const created = await runLatchkey(['admin', 'create', '--email', 'ada@example.org', '--name', 'Ada', '--password-stdin'], sourceEnv, `${PASSWORD}\n`);
    assert.equal(created.code, 0, created.stderr);
    source = await startServer(sourceEnv);
    backupFile = path.join(root, 'latchkey-backup.db');
  });
  after(async () => {
    await source?.stop();
    fs.rmSync(root, { recursive: true, force: true });
  });

  test('#73 a backup taken while logins write is complete and private', async () => {
    let writing = true;
    // Logins that succeed and fail: sessions, counters and audit events written all along.
    const load = async (worker: number) => {
      while (writing && loadRequests < 2000) {
        const ok = loadRequests % 3 === 0;
        const response = await login(source, ok ? 'ada@example.org' : `nobody${worker}-${loadRequests}@example.org`, ok ? PASSWORD : 'not the passphrase at all');
        assert.ok(response.status === 200 || response.status === 401 || response.status === 429, `load answer ${response.status}`);
        loadRequests++;
      }
    };
    const workers = [0, 1, 2].map(load);
    await new Promise((done) => setTimeout(done, 300));
    const backup = await runLatchkey(['backup', backupFile], sourceEnv);
    writing = false;
    await Promise.all(workers);

    assert.equal(backup.code, 0, backup.stderr);
    assert.match(backup.stdout, new RegExp(String.raw`^Backed up .*latchkey\.db to .*latchkey-backup\.db \(1 administrators, \d+ audit events, schema ${LATEST_MIGRATION}, \d+ KiB\)\.`));
    assert.match(backup.stdout, /Keep the secret key \(.*source\/secret\.key\) too, stored apart from the backup/);
    assert.ok(loadRequests > 10, `the server was writing during the backup (${loadRequests} requests)`);
    assert.equal(fs.statSync(backupFile).mode & 0o777, 0o600);
    const copy = new SQLite(backupFile, { readonly: true });
    try {
      assert.equal(copy.pragma('integrity_check', { simple: true }), 'ok');
      auditEventsWhenBackedUp = Number((copy.prepare('SELECT count(*) AS n FROM audit_events').get() as { n: number }).n);
      assert.match(backup.stdout, new RegExp(`, ${auditEventsWhenBackedUp} audit events,`));
    } finally {
      copy.close();
    }
    const again = await runLatchkey(['backup', backupFile], sourceEnv);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already exists; give a new file name/);
  });

  test('restored into a new data folder with the key kept beside it, the administrator logs in there', async () => {
    const target = path.join(root, 'restored');
    fs.mkdirSync(target, { mode: 0o700 });
    fs.copyFileSync(path.join(root, 'source', 'secret.key'), path.join(target, 'secret.key'));
    fs.chmodSync(path.join(target, 'secret.key'), 0o600);
    const env = { LATCHKEY_DATA_DIR: target, LATCHKEY_LOG_LEVEL: 'warn', LATCHKEY_PORT: String(await freePort()) };
    const restored = await runLatchkey(['restore', backupFile], env);
    assert.equal(restored.code, 0, restored.stderr);
    assert.match(restored.stdout, /^Restored .*latchkey-backup\.db into .*restored\/latchkey\.db \(1 administrators/);

    const server = await startServer(env);
    try {
      const response = await login(server, 'ada@example.org', PASSWORD);
      assert.equal(response.status, 200, await response.text());
      const cookie = response.headers.getSetCookie()[0]!.split(';')[0]!;
      const audit = await fetch(`${server.baseUrl}/api/v1/audit?action=admin.create`, { headers: { cookie } });
      assert.equal(audit.status, 200);
      assert.equal(((await audit.json()) as { events: unknown[] }).events.length, 1, 'the audit log came with it');

      const whileRunning = await runLatchkey(['restore', backupFile], { ...env, LATCHKEY_PORT: new URL(server.baseUrl).port });
      assert.equal(whileRunning.code, 1);
      assert.match(whileRunning.stderr, /A server answers at .*: stop every Latchkey using .* before restoring/);
    } finally {
      await server.stop();
    }

    const second = await runLatchkey(['restore', backupFile], env);
    assert.equal(second.code, 0, second.stderr);
    const kept = /kept as (\S+latchkey\.db\.before-restore-\S+); delete it/.exec(second.stdout);
    assert.ok(kept, second.stdout);
    const aside = new SQLite(kept[1]!, { readonly: true });
    try {
      const sessions = Number((aside.prepare('SELECT count(*) AS n FROM sessions').get() as { n: number }).n);
      assert.ok(sessions >= 1, 'the database kept aside holds the login made after the first restore');
    } finally {
      aside.close();
    }
  });

  test('#73 restore refuses a file that is not a Latchkey backup, a missing key and another key', async () => {
    const folder = path.join(root, 'refusals');
    const env = { LATCHKEY_DATA_DIR: folder, LATCHKEY_LOG_LEVEL: 'warn', LATCHKEY_PORT: String(await freePort()) };
    const text = path.join(root, 'notes.txt');
    fs.writeFileSync(text, 'these are not the pages of a database\n'.repeat(200));
    const notDatabase = await runLatchkey(['restore', text], env);
    assert.equal(notDatabase.code, 1);
    assert.match(notDatabase.stderr, /notes\.txt is not a SQLite database|notes\.txt cannot be opened as a SQLite database/);

    const other = path.join(root, 'other.db');
    const foreign = new SQLite(other);
    foreign.exec('CREATE TABLE notes (body TEXT)');
    foreign.close();
    const notLatchkey = await runLatchkey(['restore', other], env);
    assert.match(notLatchkey.stderr, /a SQLite database but not a Latchkey one \(it has no kysely_migration table\)/);

    const noKey = await runLatchkey(['restore', backupFile], env);
    assert.equal(noKey.code, 1);
    assert.match(noKey.stderr, /There is no secret key: the backup's secrets are sealed with the key of id [0-9a-f]{12}/);
    assert.ok(!fs.existsSync(path.join(folder, 'secret.key')), 'a refused restore makes no key');

    const wrongKey = await runLatchkey(['restore', backupFile], { ...env, LATCHKEY_SECRET_KEY: randomBytes(32).toString('base64') });
    assert.equal(wrongKey.code, 1);
    assert.match(wrongKey.stderr, /sealed with the key of id [0-9a-f]{12}, and LATCHKEY_SECRET_KEY is another/);
    assert.ok(!fs.existsSync(path.join(folder, 'latchkey.db')), 'nothing was restored');

    const usage = await runLatchkey(['restore'], env);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /restore takes one file name: latchkey restore FILE/);
  });

  test('on PostgreSQL, backup prints the pg_dump command without the password', async () => {
    const result = await runLatchkey(['backup', path.join(root, 'pg.dump')], {
      LATCHKEY_DATA_DIR: path.join(root, 'pg'),
      LATCHKEY_DATABASE_URL: 'postgres://latchkey:s3cret-pass@db.internal:5432/latchkey',
      LATCHKEY_SECRET_KEY: randomBytes(32).toString('base64'),
    });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /pg_dump --format=custom --file=".*pg\.dump" "postgres:\/\/latchkey@db\.internal:5432\/latchkey"/);
    assert.match(result.stdout, /pg_restore --no-owner/);
    assert.match(result.stdout, /Give the password in PGPASSWORD or ~\/\.pgpass/);
    assert.ok(!result.stdout.includes('s3cret-pass'));
  });
});
