import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { enqueueMail, retryDelayMs } from '../src/server/mail/outbox.js';
import { createMailboxTransport } from '../src/server/mail/transport.js';
import { deliverDueMail } from '../src/server/mail/worker.js';
import { createTestContext, dialects, type TestContext } from './support/context.js';
import { deliverMail } from './support/flow.js';
import { freePort } from './support/process.js';
import { startSmtpServer } from './support/smtp.js';


for (const dialect of dialects()) {
  describe(`the mail outbox (${dialect})`, () => {
    let ctx: TestContext;
    beforeEach(async () => {
      ctx = await createTestContext(dialect);
    });
    afterEach(() => ctx.close());

    const queue = (subject = 'Hello') =>
      enqueueMail(ctx.db, ctx.deps.secretBox, ctx.deps.random, ctx.clock.now(), {
        kind: 'test',
        to: 'grace@example.org',
        subject,
        text: 'Your link: http://latchkey.test/setup#token=SECRET-TOKEN',
        html: '<p>Your link</p>',
      });

    test('a message queued while the mail server is down arrives once it is up, exactly once', async () => {
      const port = await freePort();
      const url = `smtp://127.0.0.1:${port}`;
      await queue();

      const down = await deliverMail(ctx, url);
      assert.deepEqual(down, { sent: 0, retrying: 1, failed: 0 });
      const [row] = await ctx.db.selectFrom('outbox').selectAll().execute();
      assert.equal(row!.attempts, 1);
      assert.equal(row!.next_attempt_at, ctx.clock.now() + 10_000, 'retried after 10 s');
      assert.match(row!.last_error!, /ECONNREFUSED/);

      assert.deepEqual(await deliverMail(ctx, url), { sent: 0, retrying: 0, failed: 0 }, 'not due yet');
      ctx.clock.advance(10_000);
      assert.equal((await deliverMail(ctx, url)).retrying, 1, 'still down');
      const [again] = await ctx.db.selectFrom('outbox').selectAll().execute();
      assert.equal(again!.next_attempt_at, ctx.clock.now() + 20_000, 'backoff doubles');

      const smtp = await startSmtpServer(port);
      let sentAt = 0;
      try {
        ctx.clock.advance(20_000);
        assert.equal((await deliverMail(ctx, url)).sent, 1);
        sentAt = ctx.clock.now();
        ctx.clock.advance(3_600_000);
        assert.equal((await deliverMail(ctx, url)).sent, 0, 'a sent message is not sent again');
        const received = await smtp.waitFor(1);
        assert.equal(received.length, 1);
        assert.equal(received[0]!.subject, 'Hello');
        assert.match(String(received[0]!.text), /SECRET-TOKEN/);
      } finally {
        await smtp.close();
      }
      const [sent] = await ctx.db.selectFrom('outbox').selectAll().execute();
      assert.equal(sent!.body_sealed, null, 'the body (which may hold a link) is erased once sent');
      assert.equal(sent!.sent_at, sentAt);
    });

    test('the backoff grows from 10 seconds to at most 15 minutes', () => {
      assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8, 20].map(retryDelayMs), [10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 640_000, 900_000, 900_000]);
    });

    test('the queued body is sealed: the database shows no link', async () => {
      await queue();
      const dump = JSON.stringify(await ctx.db.selectFrom('outbox').selectAll().execute());
      assert.ok(!dump.includes('SECRET-TOKEN'));
    });

    test('two workers at once send each message once', async () => {
      const smtp = await startSmtpServer();
      try {
        for (let i = 0; i < 5; i++) await queue(`Message ${i}`);
        const reports = await Promise.all([deliverMail(ctx, smtp.url), deliverMail(ctx, smtp.url), deliverMail(ctx, smtp.url)]);
        assert.equal(reports.reduce((sum, r) => sum + r.sent, 0), 5);
        const received = await smtp.waitFor(5);
        assert.deepEqual(received.map((m) => m.subject).sort(), ['Message 0', 'Message 1', 'Message 2', 'Message 3', 'Message 4']);
      } finally {
        await smtp.close();
      }
    });

    test('a recipient the mail server refuses is marked failed, not retried forever', async () => {
      const { SMTPServer } = await import('smtp-server');
      const server = new SMTPServer({
        authOptional: true,
        disabledCommands: ['STARTTLS'],
        logger: false,
        onRcptTo(_address, _session, callback) {
          callback(Object.assign(new Error('No such user here'), { responseCode: 550 }));
        },
      });
      await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
      try {
        await queue();
        const port = (server.server.address() as net.AddressInfo).port;
        assert.deepEqual(await deliverMail(ctx, `smtp://127.0.0.1:${port}`), { sent: 0, retrying: 0, failed: 1 });
        const [row] = await ctx.db.selectFrom('outbox').selectAll().execute();
        assert.ok(row!.failed_at);
        assert.match(row!.last_error!, /550/);
      } finally {
        await new Promise<void>((done) => server.close(() => done()));
      }
    });

    test('without SMTP, messages land as .eml files in the mailbox folder, readable by the owner only', async () => {
      const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-mailbox-'));
      try {
        await queue('Mailbox message');
        const transport = createMailboxTransport(path.join(folder, 'mailbox'));
        const report = await deliverDueMail(ctx.deps, transport, ctx.deps.logger!);
        assert.equal(report.sent, 1);
        const files = fs.readdirSync(path.join(folder, 'mailbox'));
        assert.equal(files.length, 1);
        assert.match(files[0]!, /\.eml$/);
        const file = path.join(folder, 'mailbox', files[0]!);
        assert.equal(fs.statSync(file).mode & 0o777, 0o600);
        const content = fs.readFileSync(file, 'utf8');
        assert.match(content, /^Subject: Mailbox message$/m);
        assert.match(content, /^To: grace@example\.org$/m);
        assert.match(ctx.logs.text, /mail delivered to .*mailbox.*\.eml/);
      } finally {
        fs.rmSync(folder, { recursive: true, force: true });
      }
    });
  });
}
