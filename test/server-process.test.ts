/**
 * The built server, started as a user starts it, reached over real HTTP: first-start
 * link, an administrator created from the shell while it runs, login, session, logout.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createPostgresDatabase, dialects, dropPostgresDatabase } from './support/context.js';
import { runLatchkey, startServer, type RunningServer } from './support/process.js';

for (const dialect of dialects()) {
  describe(`the real server process (${dialect})`, () => {
    let dataDir: string;
    let env: Record<string, string>;
    let server: RunningServer;
    let databaseUrl: string | null = null;

    before(async () => {
      dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-serve-'));
      env = { LATCHKEY_DATA_DIR: dataDir, LATCHKEY_LOG_LEVEL: 'info' };
      if (dialect === 'postgres') {
        databaseUrl = await createPostgresDatabase();
        env.LATCHKEY_DATABASE_URL = databaseUrl;
      }
      server = await startServer(env);
    });
    after(async () => {
      if (server) await server.stop();
      if (databaseUrl) await dropPostgresDatabase(databaseUrl);
      fs.rmSync(dataDir, { recursive: true, force: true });
    });

    test('the first start prints a one-time link to create the first administrator', () => {
      assert.match(server.output(), /No administrator exists yet/);
      assert.match(server.output(), /http:\/\/127\.0\.0\.1:0\/setup#token=[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}/);
      if (dialect === 'sqlite') assert.ok(fs.existsSync(path.join(dataDir, 'latchkey.db')), 'the database is under the data folder');
    });

    test('an administrator created from the shell logs in over HTTP and logs out', async () => {
      const created = await runLatchkey(
        ['admin', 'create', '--email', 'ops@example.org', '--name', 'Ops Team', '--password-stdin'],
        env,
        'a long and private passphrase\n',
      );
      assert.equal(created.code, 0, created.stderr);
      assert.match(created.stdout, /Created administrator ops@example\.org \(active\)/);

      const login = await fetch(`${server.baseUrl}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'ops@example.org', password: 'a long and private passphrase' }),
      });
      assert.equal(login.status, 200);
      assert.deepEqual(await login.json(), { status: 'authenticated' });
      const cookie = login.headers.getSetCookie()[0]!.split(';')[0]!;

      const who = await fetch(`${server.baseUrl}/api/v1/auth/session`, { headers: { cookie } });
      assert.equal(who.status, 200);
      assert.equal(((await who.json()) as { admin: { name: string } }).admin.name, 'Ops Team');

      const out = await fetch(`${server.baseUrl}/api/v1/auth/logout`, { method: 'POST', headers: { cookie } });
      assert.equal(out.status, 204);
      const gone = await fetch(`${server.baseUrl}/api/v1/auth/session`, { headers: { cookie } });
      assert.equal(gone.status, 401);
    });

    test('the log holds no password, cookie or token', () => {
      assert.ok(!server.output().includes('a long and private passphrase'));
      assert.ok(!/latchkey_session=/.test(server.output()));
    });
  });
}
