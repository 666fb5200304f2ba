/**
 * What the console is told about mail: each administrator's latest setup email as it stands
 * (queued, sent, failing with the mail server's words and the next try, failed), and a test
 * email sent there and then through the configured mail server.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { Migrator } from 'kysely';
import { openDatabase } from '../src/server/db/connect.js';
import { migrations } from '../src/server/db/migrate.js';
import { withoutCredentials } from '../src/server/mail/credentials.js';
import { createPostgresDatabase, createTestContext, dialects, dropPostgresDatabase, login, seedAdmin, type TestContext } from './support/context.js';
import { deliverMail } from './support/flow.js';
import { freePort } from './support/process.js';
import { startSmtpServer, type TestSmtpServer } from './support/smtp.js';

const SMTP_USER = 'latchkey-mailer';
const SMTP_PASSWORD = 'Sm7p-pa55word/for:tests';
const smtpUrl = (port: number, password = SMTP_PASSWORD) =>
  `smtp://${SMTP_USER}:${encodeURIComponent(password)}@127.0.0.1:${port}`;

function assertNoCredentials(text: string) {
  for (const secret of [SMTP_PASSWORD, encodeURIComponent(SMTP_PASSWORD), SMTP_USER]) assert.ok(!text.includes(secret), `no credentials in: ${text}`);
}

for (const dialect of dialects()) {
  describe(`setup email status (${dialect})`, () => {
    let ctx: TestContext;
    let cookie: string;
    let port: number;
    let url: string;
    beforeEach(async () => {
      port = await freePort();
      url = smtpUrl(port);
      ctx = await createTestContext(dialect, { env: { LATCHKEY_SMTP_URL: url } });
      await seedAdmin(ctx, { email: 'ada@example.org', name: 'Ada Lovelace' });
      cookie = await login(ctx, 'ada@example.org');
    });
    afterEach(() => ctx.close());

    const get = async (id: string) => {
      const [list, one] = await Promise.all([
        ctx.app.inject({ method: 'GET', url: '/api/v1/admins', headers: { cookie } }),
        ctx.app.inject({ method: 'GET', url: `/api/v1/admins/${id}`, headers: { cookie } }),
      ]);
      assert.equal(list.statusCode, 200);
      const listed = list.json().admins.find((a: { id: string }) => a.id === id);
      assert.deepEqual(one.json().admin, listed, 'the list and the details agree');
      return listed.setupEmail;
    };
    const invite = async () => {
      const created = await ctx.app.inject({ method: 'POST', url: '/api/v1/admins', headers: { cookie }, payload: { email: 'grace@example.org', name: 'Grace Hopper' } });
      assert.equal(created.statusCode, 201, created.body);
      return created.json().admin as { id: string; setupEmail: unknown };
    };

    test('an invitation is queued, then failing with the refusal and the next try while SMTP is down, then sent', async () => {
      const grace = await invite();
      const queuedAt = new Date(ctx.clock.now()).toISOString();
      const queued = { state: 'queued', queuedAt, sentAt: null, attempts: 0, lastError: null, nextAttemptAt: queuedAt };
      assert.deepEqual(grace.setupEmail, queued, 'the 201 says queued, not sent');
      assert.deepEqual(await get(grace.id), queued);

      ctx.clock.advance(1_000);
      assert.deepEqual(await deliverMail(ctx, url), { sent: 0, retrying: 1, failed: 0 });
      const failing = await get(grace.id);
      assert.equal(failing.state, 'failing');
      assert.equal(failing.attempts, 1);
      assert.match(failing.lastError, /ECONNREFUSED/);
      assert.equal(failing.nextAttemptAt, new Date(ctx.clock.now() + 10_000).toISOString());
      assert.equal(failing.sentAt, null);
      assertNoCredentials(JSON.stringify(failing));

      const smtp = await startSmtpServer(port, { users: { [SMTP_USER]: SMTP_PASSWORD } });
      try {
        ctx.clock.advance(10_000);
        assert.equal((await deliverMail(ctx, url)).sent, 1);
        await smtp.waitFor(1);
      } finally {
        await smtp.close();
      }
      assert.deepEqual(await get(grace.id), {
        state: 'sent',
        queuedAt,
        sentAt: new Date(ctx.clock.now()).toISOString(),
        attempts: 1,
        lastError: null,
        nextAttemptAt: null,
      });
    });

    test('Resend Email shows the new email, queued, in place of the one sent before', async () => {
      const grace = await invite();
      const smtp = await startSmtpServer(port, { users: { [SMTP_USER]: SMTP_PASSWORD } });
      try {
        assert.equal((await deliverMail(ctx, url)).sent, 1);
      } finally {
        await smtp.close();
      }
      assert.equal((await get(grace.id)).state, 'sent');
      ctx.clock.advance(60_000);
      const resent = await ctx.app.inject({ method: 'POST', url: `/api/v1/admins/${grace.id}/setup-email`, headers: { cookie } });
      assert.equal(resent.statusCode, 202);
      const latest = await get(grace.id);
      assert.equal(latest.state, 'queued');
      assert.equal(latest.queuedAt, new Date(ctx.clock.now()).toISOString());
    });

    test('a recipient the mail server refuses is failed, with its words and no next try', async () => {
      const { SMTPServer } = await import('smtp-server');
      const server = new SMTPServer({
        authOptional: true,
        allowInsecureAuth: true,
        disabledCommands: ['STARTTLS'],
        logger: false,
        onAuth: (_auth, _session, callback) => callback(null, { user: SMTP_USER }),
        onRcptTo: (_address, _session, callback) => callback(Object.assign(new Error('No such user here'), { responseCode: 550 })),
      });
      await new Promise<void>((done) => server.listen(port, '127.0.0.1', done));
      const grace = await invite();
      try {
        assert.deepEqual(await deliverMail(ctx, url), { sent: 0, retrying: 0, failed: 1 });
      } finally {
        await new Promise<void>((done) => server.close(() => done()));
      }
      const failed = await get(grace.id);
      assert.equal(failed.state, 'failed');
      assert.match(failed.lastError, /550 No such user here/);
      assert.equal(failed.nextAttemptAt, null);
    });

    test('an administrator given a password has no setup email; the JSON never carries the body or the link', async () => {
      const linus = await seedAdmin(ctx, { email: 'linus@example.org' });
      assert.equal(await get(linus.id), null);
      const grace = await invite();
      const body = JSON.stringify((await ctx.app.inject({ method: 'GET', url: '/api/v1/admins', headers: { cookie } })).json());
      assert.ok(!/setup#token|token=/i.test(body), body);
      assert.deepEqual(Object.keys(await get(grace.id)).sort(), ['attempts', 'lastError', 'nextAttemptAt', 'queuedAt', 'sentAt', 'state']);
    });

    test('an error stored with the mail server\'s address and credentials is shown without them', async () => {
      const grace = await invite();
      // As an earlier version, or a transport quoting its URL, could have stored it.
      await ctx.db
        .updateTable('outbox')
        .set({ attempts: 2, last_error: `EAUTH 535 cannot log in to ${url} as ${SMTP_USER} with ${SMTP_PASSWORD}` })
        .where('admin_id', '=', grace.id)
        .execute();
      const failing = await get(grace.id);
      assert.equal(failing.state, 'failing');
      assert.match(failing.lastError, /^EAUTH 535 cannot log in to smtp:\/\/127\.0\.0\.1:\d+ as \[redacted\] with \[redacted\]$/);
    });

    test('a setup email queued before the upgrade is matched to its administrator by address', async () => {
      const old = await createOldDatabase(dialect);
      try {
        await old.db.insertInto('admins' as never).values({
          id: '00000000-0000-4000-8000-000000000001', email: 'grace@example.org', name: 'Grace', password_hash: null, status: 'invited',
          mfa_required: 0, created_at: 1, updated_at: 1, last_login_at: null,
        } as never).execute();
        for (const [id, kind] of [['m1', 'setup'], ['m2', 'security_notice']] as const) {
          await old.db.insertInto('outbox' as never).values({
            id, kind, to_address: 'grace@example.org', subject: 'S', body_sealed: null, created_at: 1, next_attempt_at: 1,
            claimed_until: null, sent_at: null, failed_at: null, last_error: null,
          } as never).execute();
        }
        const result = await old.migrator.migrateToLatest();
        assert.equal(result.error, undefined);
        const rows = await old.db.selectFrom('outbox' as never).select(['id', 'admin_id'] as never).orderBy('id' as never).execute();
        assert.deepEqual(rows, [{ id: 'm1', admin_id: '00000000-0000-4000-8000-000000000001' }, { id: 'm2', admin_id: null }]);
      } finally {
        await old.close();
      }
    });
  });

  describe(`Send test email (${dialect})`, () => {
    let ctx: TestContext | null = null;
    let smtp: TestSmtpServer | null = null;
    afterEach(async () => {
      await ctx?.close();
      await smtp?.close();
      ctx = null;
      smtp = null;
    });

    const signedIn = async (env: Record<string, string>) => {
      ctx = await createTestContext(dialect, { env });
      await seedAdmin(ctx, { email: 'ada@example.org', name: 'Ada Lovelace' });
      return { ctx, cookie: await login(ctx, 'ada@example.org') };
    };
    const sendTest = (c: TestContext, cookie?: string, headers: Record<string, string> = {}) =>
      c.app.inject({ method: 'POST', url: '/api/v1/mail/test', headers: { ...(cookie ? { cookie } : {}), ...headers } });

    test('it arrives at once from the configured sender to your own address, and is audited', async () => {
      smtp = await startSmtpServer(0, { users: { [SMTP_USER]: SMTP_PASSWORD } });
      const { ctx: c, cookie } = await signedIn({ LATCHKEY_SMTP_URL: smtpUrl(smtp.port), LATCHKEY_MAIL_FROM: 'Latchkey <noreply@example.org>' });
      const response = await sendTest(c, cookie);
      assert.equal(response.statusCode, 200, response.body);
      assert.deepEqual(response.json(), { sentTo: 'ada@example.org', transport: 'smtp' });
      assert.equal(smtp.messages.length, 1, 'sent before the answer, not queued');
      const [mail] = smtp.messages;
      assert.deepEqual(mail!.from?.value, [{ address: 'noreply@example.org', name: 'Latchkey' }]);
      assert.deepEqual(mail!.to && !Array.isArray(mail!.to) ? mail!.to.value.map((a) => a.address) : null, ['ada@example.org']);
      assert.equal(mail!.subject, 'Latchkey test email');
      assert.match(String(mail!.text), /Hello Ada Lovelace/);
      assertNoCredentials(String(mail!.text) + String(mail!.html));
      assert.equal((await c.db.selectFrom('outbox').selectAll().execute()).length, 0, 'nothing went through the outbox');
      const audit = await c.db.selectFrom('audit_events').selectAll().where('action', '=', 'mail.test').execute();
      assert.deepEqual(audit.map((e) => [e.outcome, JSON.parse(e.details!)]), [['success', { transport: 'smtp' }]]);
    });

    test('with the mail server down the answer is 502 mail_failed with its words, never the credentials', async () => {
      const { ctx: c, cookie } = await signedIn({ LATCHKEY_SMTP_URL: smtpUrl(await freePort()) });
      const response = await sendTest(c, cookie);
      assert.equal(response.statusCode, 502, response.body);
      const { error } = response.json();
      assert.equal(error.code, 'mail_failed');
      assert.match(error.message, /^The test email was not sent through smtp:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/);
      assert.equal(error.reason, 'unreachable', 'a stable word the console translates');
      assert.equal(error.detail, 'ECONNREFUSED', 'the system code, without the message around it');
      assertNoCredentials(response.body);
      assertNoCredentials(c.logs.text);
      const audit = await c.db.selectFrom('audit_events').selectAll().where('action', '=', 'mail.test').execute();
      assert.equal(audit.length, 1);
      assert.equal(audit[0]!.outcome, 'failure');
      assertNoCredentials(audit[0]!.details!);
    });

    test('credentials the mail server refuses are 502 mail_failed with its 535, without the password', async () => {
      smtp = await startSmtpServer(0, { users: { [SMTP_USER]: 'the-right-one' } });
      const { ctx: c, cookie } = await signedIn({ LATCHKEY_SMTP_URL: smtpUrl(smtp.port) });
      const response = await sendTest(c, cookie);
      assert.equal(response.statusCode, 502, response.body);
      assert.equal(response.json().error.code, 'mail_failed');
      assert.match(response.json().error.message, /535/);
      assert.equal(response.json().error.reason, 'authentication');
      assert.equal(response.json().error.detail, 'EAUTH 535');
      assertNoCredentials(response.body);
      assert.equal(smtp.messages.length, 0);
    });

    test('without SMTP it is written to the mailbox folder and says so', async () => {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-test-email-'));
      try {
        const { ctx: c, cookie } = await signedIn({ LATCHKEY_DATA_DIR: dataDir });
        const response = await sendTest(c, cookie);
        assert.equal(response.statusCode, 200, response.body);
        assert.deepEqual(response.json(), { sentTo: 'ada@example.org', transport: 'mailbox' });
        const files = fs.readdirSync(path.join(dataDir, 'mailbox'));
        assert.equal(files.length, 1);
        assert.match(fs.readFileSync(path.join(dataDir, 'mailbox', files[0]!), 'utf8'), /^Subject: Latchkey test email$/m);
      } finally {
        fs.rmSync(dataDir, { recursive: true, force: true });
      }
    });

    test('it needs a full session and a same-site request', async () => {
      smtp = await startSmtpServer();
      const { ctx: c, cookie } = await signedIn({ LATCHKEY_SMTP_URL: smtp.url });
      const anonymous = await sendTest(c);
      assert.equal(anonymous.statusCode, 401);
      assert.equal(anonymous.json().error.code, 'not_authenticated');
      const crossSite = await sendTest(c, cookie, { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' });
      assert.equal(crossSite.statusCode, 403);
      assert.equal(crossSite.json().error.code, 'forbidden_origin');
      assert.equal(smtp.messages.length, 0);
    });
  });
}

test('credentials are taken out of any URL and wherever the configured ones appear', () => {
  const url = 'smtps://mailer%40example.org:p%40ss%2Fword@mail.example.org:465';
  assert.equal(
    withoutCredentials('connect smtps://mailer%40example.org:p%40ss%2Fword@mail.example.org:465 failed; login p@ss/word for mailer@example.org', url),
    'connect smtps://mail.example.org:465 failed; login [redacted] for [redacted]',
  );
  assert.equal(withoutCredentials('ECONNREFUSED 127.0.0.1:25', null), 'ECONNREFUSED 127.0.0.1:25');
});

/** A database migrated as far as the version before the outbox named its administrators. */
async function createOldDatabase(dialect: 'sqlite' | 'postgres') {
  const names = Object.keys(migrations).sort();
  const before = names[names.indexOf('006_outbox_admin') - 1]!;
  const url = dialect === 'postgres' ? await createPostgresDatabase() : null;
  const db = url ? openDatabase({ dialect: 'postgres', connectionString: url }) : openDatabase({ dialect: 'sqlite', filename: ':memory:' });
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const result = await migrator.migrateTo(before);
  if (result.error) throw result.error;
  return {
    db,
    migrator,
    close: async () => {
      await db.destroy();
      if (url) await dropPostgresDatabase(url);
    },
  };
}
