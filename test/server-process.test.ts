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
import { totpAt } from './support/totp-codes.js';
import { startSmtpServer, type TestSmtpServer } from './support/smtp.js';

for (const dialect of dialects()) {
  describe(`the real server process (${dialect})`, () => {
    let dataDir: string;
    let env: Record<string, string>;
    let server: RunningServer;
    let databaseUrl: string | null = null;
    let smtp: TestSmtpServer;

    before(async () => {
      smtp = await startSmtpServer();
      dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-serve-'));
      env = { LATCHKEY_DATA_DIR: dataDir, LATCHKEY_LOG_LEVEL: 'info', LATCHKEY_SMTP_URL: smtp.url };
      if (dialect === 'postgres') {
        databaseUrl = await createPostgresDatabase();
        env.LATCHKEY_DATABASE_URL = databaseUrl;
      }
      server = await startServer(env);
    });
    after(async () => {
      if (server) await server.stop();
      await smtp.close();
      if (databaseUrl) await dropPostgresDatabase(databaseUrl);
      fs.rmSync(dataDir, { recursive: true, force: true });
    });

    test('#56 with its output going to a log (not a terminal), the first start names first-admin-link and writes no link or token', async () => {
      const deadline = Date.now() + 10_000;
      while (!server.output().includes('run `latchkey first-admin-link`') && Date.now() < deadline) await new Promise((done) => setTimeout(done, 50));
      assert.match(server.output(), /no administrator exists yet: run `latchkey first-admin-link` to get the one-time link/);
      assert.doesNotMatch(server.output(), /setup#token|[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}/);
      if (dialect === 'sqlite') assert.ok(fs.existsSync(path.join(dataDir, 'latchkey.db')), 'the database is under the data folder');
    });

    test('latchkey first-admin-link prints a link that creates the first administrator over HTTP; once one exists it refuses', async () => {
      const printed = await runLatchkey(['first-admin-link'], env);
      assert.equal(printed.code, 0, printed.stderr);
      assert.match(printed.stdout, /One-time link to create the first administrator \(valid 24 hours/);
      const token = /^http:\/\/localhost:\d+\/setup#token=([A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})$/m.exec(printed.stdout)?.[1];
      assert.ok(token, printed.stdout);
      const bearer = { authorization: `Bearer ${token}` };
      const state = await fetch(`${server.baseUrl}/api/v1/setup`, { headers: bearer });
      assert.equal(state.status, 200);
      assert.equal(((await state.json()) as { kind: string }).kind, 'bootstrap');
      const created = await fetch(`${server.baseUrl}/api/v1/setup/first-admin`, {
        method: 'POST',
        headers: { ...bearer, 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'root@example.org', name: 'First Admin', password: 'the first administrator passphrase' }),
      });
      assert.equal(created.status, 201, await created.clone().text());

      const refused = await runLatchkey(['first-admin-link'], env);
      assert.equal(refused.code, 1);
      assert.equal(refused.stdout, '');
      assert.match(refused.stderr, /^An administrator already exists, so there is no first-administrator link\. To let an administrator in, run: latchkey admin setup-link --email E$/m);
      assert.ok(!server.output().includes(token), 'the link never reached the server log');
    });

    test('an administrator created from the shell logs in over HTTP and logs out', async () => {
      const created = await runLatchkey(
        ['admin', 'create', '--email', 'ops@example.org', '--name', 'Ops Team', '--password-stdin'],
        env,
        'a long and private passphrase\n',
      );
      assert.equal(created.code, 0, created.stderr);
      assert.match(created.stdout, /Created administrator ops@example\.org \(active, administrator\)/);

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

    let seed = '';
    test('an admin added from the shell gets the email from the running server, sets up, and logs in with a code', async () => {
      const created = await runLatchkey(['admin', 'create', '--email', 'grace@example.org', '--name', 'Grace Hopper', '--mfa-required'], env);
      assert.equal(created.code, 0, created.stderr);
      const [mail] = await smtp.waitFor(1, 15_000);
      assert.equal(mail!.subject, 'Set up your password and authenticator for Latchkey');
      const token = /setup#token=(\S+)/.exec(String(mail!.text))![1]!;
      assert.ok(created.stdout.includes(token), 'the printed link is the emailed one');

      const call = (pathname: string, body?: object) =>
        fetch(`${server.baseUrl}/api/v1/setup${pathname}`, {
          method: body === undefined && pathname === '' ? 'GET' : 'POST',
          headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
          body: body ? JSON.stringify(body) : null,
        });
      assert.equal((await call('/password', { password: 'grace chooses a passphrase' })).status, 204);
      const enrolment = (await (await call('/totp', undefined)).json()) as { secret: string };
      seed = enrolment.secret;
      const verify = await call('/totp/verify', { code: totpAt(seed, Date.now()) });
      assert.equal(verify.status, 200);

      const login = await fetch(`${server.baseUrl}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'grace@example.org', password: 'grace chooses a passphrase' }),
      });
      assert.equal(((await login.json()) as { status: string }).status, 'mfa_required');
      const pending = login.headers.getSetCookie()[0]!.split(';')[0]!;
      // The enrolment spent the current step; the next step's code is the next valid one.
      const next = totpAt(seed, Date.now() + 30_000);
      const second = await fetch(`${server.baseUrl}/api/v1/auth/mfa/totp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie: pending },
        body: JSON.stringify({ code: next }),
      });
      assert.equal(second.status, 200);
    });

    test('admin reset-mfa (a lost phone) makes the next login ask for enrolment again', async () => {
      const reset = await runLatchkey(['admin', 'reset-mfa', '--email', 'grace@example.org'], env);
      assert.equal(reset.code, 0, reset.stderr);
      assert.match(reset.stdout, /Removed the authenticators and recovery codes of grace@example\.org/);
      const login = await fetch(`${server.baseUrl}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'grace@example.org', password: 'grace chooses a passphrase' }),
      });
      assert.equal(login.status, 200);
      assert.equal(((await login.json()) as { status: string }).status, 'mfa_enrolment_required');
      const notices = await smtp.waitFor(3, 15_000);
      assert.ok(notices.some((m) => /authenticator apps and recovery codes of your account were removed/.test(String(m.text))));
    });

    test('#56 the log holds no password, cookie, seed or token', () => {
      assert.ok(!server.output().includes('a long and private passphrase'));
      assert.ok(!server.output().includes('grace chooses a passphrase'));
      assert.ok(seed && !server.output().includes(seed));
      assert.ok(!/latchkey_session=/.test(server.output()));
      assert.ok(!/setup#token=/.test(server.output()));
      assert.match(server.output(), /mail delivered to smtp:\/\/127\.0\.0\.1/);
    });
  });
}
