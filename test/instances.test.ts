/**
 * Several instances on one database, as behind a load balancer: a session, a lockout and a
 * setup link made on one are honoured by the other; an instance with another secret key
 * refuses to start rather than fail every login later.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createPostgresDatabase, dialects, dropPostgresDatabase } from './support/context.js';
import { runLatchkey, startServer, type RunningServer } from './support/process.js';

for (const dialect of dialects()) {
  describe(`two instances on one database (${dialect})`, () => {
    let dataDir: string;
    let env: Record<string, string>;
    let first: RunningServer;
    let second: RunningServer;
    let databaseUrl: string | null = null;

    before(async () => {
      dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-instances-'));
      databaseUrl = dialect === 'postgres' ? await createPostgresDatabase() : null;
      env = {
        LATCHKEY_DATA_DIR: dataDir,
        LATCHKEY_SECRET_KEY: randomBytes(32).toString('base64'),
        LATCHKEY_DATABASE_URL: databaseUrl ?? `sqlite:${path.join(dataDir, 'shared.db')}`,
        LATCHKEY_LOG_LEVEL: 'warn',
      };
      // Both start at once, as behind a load balancer; one that started is stopped by `after` even if the other failed.
      const started = await Promise.allSettled([startServer(env), startServer(env)]);
      for (const result of started) if (result.status === 'fulfilled') (first ? (second = result.value) : (first = result.value));
      const failed = started.find((result) => result.status === 'rejected');
      if (failed) throw failed.reason;
      const created = await runLatchkey(['admin', 'create', '--email', 'ada@example.org', '--name', 'Ada', '--password-stdin'], env, 'ada keeps a long passphrase\n');
      assert.equal(created.code, 0, created.stderr);
    });
    after(async () => {
      await Promise.all([first?.stop(), second?.stop()]);
      if (databaseUrl) await dropPostgresDatabase(databaseUrl);
      fs.rmSync(dataDir, { recursive: true, force: true });
    });

    const post = (server: RunningServer, url: string, body: object, cookie?: string) =>
      fetch(`${server.baseUrl}${url}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
        body: JSON.stringify(body),
      });

    test('a session made on one instance works on the other, and logging out on the other ends it', async () => {
      const login = await post(first, '/api/v1/auth/login', { email: 'ada@example.org', password: 'ada keeps a long passphrase' });
      assert.equal(login.status, 200);
      const cookie = login.headers.getSetCookie()[0]!.split(';')[0]!;
      assert.equal((await fetch(`${second.baseUrl}/api/v1/admins`, { headers: { cookie } })).status, 200);
      assert.equal((await post(second, '/api/v1/auth/logout', {}, cookie)).status, 204);
      assert.equal((await fetch(`${first.baseUrl}/api/v1/auth/session`, { headers: { cookie } })).status, 401);
    });

    test('failures on both instances add up to one lockout', async () => {
      for (let i = 0; i < 6; i++) {
        const server = i % 2 === 0 ? first : second;
        assert.equal((await post(server, '/api/v1/auth/login', { email: 'ada@example.org', password: 'a wrong guess here' })).status, 401);
      }
      const right = await post(first, '/api/v1/auth/login', { email: 'ada@example.org', password: 'ada keeps a long passphrase' });
      assert.equal(right.status, 401, 'locked for both');
      const unlocked = await runLatchkey(['admin', 'unlock', '--email', 'ada@example.org'], env);
      assert.equal(unlocked.code, 0, unlocked.stderr);
      assert.equal((await post(second, '/api/v1/auth/login', { email: 'ada@example.org', password: 'ada keeps a long passphrase' })).status, 200);
    });

    test('an instance with another secret key refuses to start, saying what to fix', async () => {
      const result = await runLatchkey(['migrate'], { ...env, LATCHKEY_SECRET_KEY: randomBytes(32).toString('base64') });
      assert.equal(result.code, 0, 'migrate does not need the key');
      await assert.rejects(startServer({ ...env, LATCHKEY_SECRET_KEY: randomBytes(32).toString('base64') }), /Give every instance the same LATCHKEY_SECRET_KEY/);
    });
  });
}
