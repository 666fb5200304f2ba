/**
 * Administrators' emails are plain addresses in one canonical form, and mail goes to the
 * stored address alone (SECURITY.md #55); on both databases.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { Migrator } from 'kysely';
import { SMTPServer } from 'smtp-server';
import { canonicalEmail } from '../src/server/directory/addresses.js';
import { createSmtpTransport } from '../src/server/mail/transport.js';
import { migrations } from '../src/server/db/migrate.js';
import { DomainError } from '../src/server/core/errors.js';
import { createTestContext, createTestDatabase, dialects, login, seedAdmin, type TestContext } from './support/context.js';

const NOT_PLAIN = [
  'grace<attacker@evil.example>',
  'Grace <attacker@evil.example>',
  'grace,attacker@evil.example',
  'grace@example.org,attacker@evil.example',
  'x:attacker@evil.example;',
  '"grace"@example.org',
  'grace(comment)@example.org',
  'grace@[192.0.2.1]',
  'grace@192.0.2.1',
  'grace%attacker@evil.example',
  'grace!attacker@evil.example',
  '=?utf-8?q?attacker?=@evil.example',
  'grace..hopper@example.org',
  '.grace@example.org',
  'grace@example',
  'grace@-example.org',
  'grace@example.org.',
  'grace@exa/mple.org',
  `${'g'.repeat(65)}@example.org`,
  `grace@${'a'.repeat(64)}.org`,
  // Look-alikes: a Cyrillic а before the @, and in the domain.
  'gr\u0430ce@example.org',
  'grace@ex\u0430mple.org',
  // Greek ο among Latin letters.
  'grace@g\u03bfogle.com',
];

describe('what counts as an administrator\'s address', () => {
  test('#55 display names, groups, lists, quotes, routing and over-long parts are refused with invalid_email', () => {
    for (const input of NOT_PLAIN) {
      assert.throws(() => canonicalEmail(input), (error: DomainError) => error.code === 'invalid_email' && error.field === 'email', input);
    }
  });

  test('#55 an address is stored lower-cased with its domain in ASCII, one form for each spelling', () => {
    assert.equal(canonicalEmail('  Grace.Hopper+ops@Example.ORG '), 'grace.hopper+ops@example.org');
    assert.equal(canonicalEmail("o'brien@example.org"), "o'brien@example.org");
    for (const spelling of ['grace@bücher.example', 'grace@BÜCHER.example', 'grace@xn--bcher-kva.example', 'GRACE@XN--BCHER-KVA.EXAMPLE', 'grace@ｂücher.example']) {
      assert.equal(canonicalEmail(spelling), 'grace@xn--bcher-kva.example', spelling);
    }
    // One script per label, or Latin with the scripts written alongside Han (UTS #39).
    assert.equal(canonicalEmail('grace@пример.рф'), 'grace@xn--e1afmkfd.xn--p1ai');
    assert.equal(canonicalEmail('grace@例え.jp'), 'grace@xn--r8jz45g.jp');
    assert.match(canonicalEmail('grace@bücher-例.jp'), /^grace@xn--[a-z0-9-]+\.jp$/);
  });
});

for (const dialect of dialects()) {
  describe(`administrators' addresses (${dialect})`, () => {
    let ctx: TestContext;
    let ada: string;
    beforeEach(async () => {
      ctx = await createTestContext(dialect);
      await seedAdmin(ctx, { email: 'ada@example.org', name: 'Ada Lovelace' });
      ada = await login(ctx, 'ada@example.org');
    });
    afterEach(() => ctx.close());

    const create = (email: string) =>
      ctx.app.inject({ method: 'POST', url: '/api/v1/admins', headers: { cookie: ada }, payload: { email, name: 'Grace Hopper' } });

    test('#55 Add administrator refuses an address that is not plain, and creates and sends nothing', async () => {
      for (const email of NOT_PLAIN) {
        const response = await create(email);
        assert.equal(response.statusCode, 400, `${email}: ${response.body}`);
        // The schema's coarse screen (exactly one @, no spaces) answers first where it can.
        const coarse = /\s/.test(email) || email.split('@').length !== 2;
        assert.equal(response.json().error.code, coarse ? 'invalid_request' : 'invalid_email', email);
        assert.equal(response.json().error.field, 'email');
      }
      assert.equal((await ctx.db.selectFrom('admins').select('id').execute()).length, 1);
      assert.equal((await ctx.db.selectFrom('outbox').select('id').execute()).length, 0);
    });

    test('#55 an internationalised domain and its punycode form are one administrator, shown in ASCII', async () => {
      const created = await create('Grace@Bücher.example');
      assert.equal(created.statusCode, 201, created.body);
      assert.equal(created.json().admin.email, 'grace@xn--bcher-kva.example');
      const again = await create('grace@xn--bcher-kva.example');
      assert.equal(again.statusCode, 409);
      assert.equal(again.json().error.code, 'email_taken');
      const outbox = await ctx.db.selectFrom('outbox').select('to_address').execute();
      assert.deepEqual(outbox.map((row) => row.to_address), ['grace@xn--bcher-kva.example']);
    });

    test('#55 either spelling of an internationalised domain logs in, and failures under both count against one account', async () => {
      await seedAdmin(ctx, { email: 'Grace@Bücher.example', password: 'correct horse battery staple' });
      for (const spelling of ['grace@bücher.example', 'GRACE@xn--bcher-kva.example']) {
        const response = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: spelling, password: 'correct horse battery staple' } });
        assert.equal(response.statusCode, 200, `${spelling}: ${response.body}`);
      }
      // Five free failures for the account, spread over both spellings; the sixth is locked.
      for (let i = 0; i < 6; i++) {
        const spelling = i % 2 === 0 ? 'grace@bücher.example' : 'grace@xn--bcher-kva.example';
        await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: spelling, password: 'not the password at all' } });
      }
      const counters = await ctx.db.selectFrom('throttle_counters').select(['key', 'failures']).where('key', 'like', 'password:%').execute();
      assert.deepEqual(counters.map((row) => [row.key, row.failures]), [['password:grace@xn--bcher-kva.example', 6]]);
    });

    test('#55 the first administrator\'s address is held to the same rule', async () => {
      const fresh = await createTestContext(dialect);
      try {
        const { issueSetupToken } = await import('../src/server/setup/tokens.js');
        const { token } = await fresh.db.transaction().execute((trx) =>
          issueSetupToken(trx, fresh.deps.random, fresh.clock.now(), { adminId: null, purpose: 'bootstrap', ttlMs: 3_600_000 }),
        );
        const response = await fresh.app.inject({
          method: 'POST',
          url: '/api/v1/setup/first-admin',
          headers: { authorization: `Bearer ${token}` },
          payload: { email: 'ada<attacker@evil.example>', name: 'Ada', password: 'correct horse battery staple' },
        });
        assert.equal(response.json().error.code, 'invalid_email', response.body);
        assert.equal((await fresh.db.selectFrom('admins').select('id').execute()).length, 0);
      } finally {
        await fresh.close();
      }
    });

    test('#55 an address an older version stored as typed is rewritten to its ASCII form by the migration', async () => {
      const database = await createTestDatabase(dialect);
      try {
        const migrator = new Migrator({ db: database.db, provider: { getMigrations: async () => migrations } });
        // As the version before the addresses were made canonical left it.
        await migrator.migrateTo('004_session_factors');
        const row = { name: 'x', password_hash: null, status: 'invited' as const, mfa_required: 0, created_at: 1, updated_at: 1, last_login_at: null, password_changed_at: null };
        await database.db.insertInto('admins').values([
          { ...row, id: 'a1', email: 'grace@bücher.example' },
          { ...row, id: 'a2', email: 'alan@münchen.de' },
          { ...row, id: 'a3', email: 'alan@xn--mnchen-3ya.de' },
          { ...row, id: 'a4', email: 'ada@example.org' },
        ]).execute();
        const { error } = await migrator.migrateToLatest();
        assert.equal(error, undefined);
        const emails = await database.db.selectFrom('admins').select(['id', 'email']).orderBy('id').execute();
        assert.deepEqual(emails, [
          { id: 'a1', email: 'grace@xn--bcher-kva.example' },
          { id: 'a2', email: 'alan@münchen.de' },
          { id: 'a3', email: 'alan@xn--mnchen-3ya.de' },
          { id: 'a4', email: 'ada@example.org' },
        ]);
      } finally {
        await database.close();
      }
    });
  });
}

describe('mail goes to the stored address alone', () => {
  let server: SMTPServer;
  let url: string;
  const recipients: string[] = [];
  const headers: string[] = [];
  beforeEach(async () => {
    recipients.length = 0;
    headers.length = 0;
    server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onRcptTo(address, _session, callback) {
        recipients.push(address.address);
        callback();
      },
      onData(stream, _session, callback) {
        let text = '';
        stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
        stream.on('end', () => {
          headers.push(/^To: (.*)$/im.exec(text)?.[1] ?? text);
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.server.address();
    url = `smtp://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterEach(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const mail = (to: string) => ({ from: 'Latchkey <latchkey@example.org>', to, subject: 'Set up', text: 'hello', html: '<p>hello</p>', messageId: 'm1' });

  test('#55 the envelope carries the stored address, and a string that is not one is never sent to', async () => {
    const transport = createSmtpTransport(url);
    try {
      await transport.send(mail('grace@example.org'));
      assert.deepEqual(recipients, ['grace@example.org']);
      assert.equal(headers[0], 'grace@example.org');
      // nodemailer may spell the domain in Unicode to a server that speaks SMTPUTF8: one mailbox.
      await transport.send(mail('grace@xn--bcher-kva.example'));
      assert.deepEqual(recipients.map(canonicalEmail), ['grace@example.org', 'grace@xn--bcher-kva.example']);
      for (const to of ['grace<attacker@evil.example>', 'grace,attacker@evil.example', 'x:attacker@evil.example;']) {
        await assert.rejects(transport.send(mail(to)), /not a plain email address/, to);
      }
      assert.equal(recipients.length, 2, 'nothing reached the attacker');
    } finally {
      transport.close();
    }
  });
});
