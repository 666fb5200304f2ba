/**
 * The outbox across instances: two mail workers, each on its own connection to one
 * database, drain a backlog of 500 messages through a real SMTP server. Every message
 * arrives exactly once and both workers take part; a claim is one statement.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { createSecretBox } from '../src/server/core/secret-box.js';
import { loadConfig } from '../src/server/core/config.js';
import { cryptoRandom } from '../src/server/core/ports.js';
import { openDatabase } from '../src/server/db/connect.js';
import { migrateToLatest } from '../src/server/db/migrate.js';
import { createStatementMeter } from '../src/server/db/meter.js';
import type { Db } from '../src/server/db/schema.js';
import { claimDueMail, enqueueMail } from '../src/server/mail/outbox.js';
import { createSmtpTransport } from '../src/server/mail/transport.js';
import { deliverDueMail } from '../src/server/mail/worker.js';
import { createPostgresDatabase, dialects, dropPostgresDatabase, TestClock } from './support/context.js';
import { startSmtpServer, type TestSmtpServer } from './support/smtp.js';

const BACKLOG = 500;

for (const dialect of dialects()) {
  describe(`the outbox with two workers (${dialect})`, () => {
    let folder: string;
    let databaseUrl: string | null = null;
    let databases: Db[] = [];
    let smtp: TestSmtpServer;
    const clock = new TestClock();
    const box = createSecretBox(cryptoRandom, randomBytes(32));
    const open = (): Db =>
      databaseUrl
        ? openDatabase({ dialect: 'postgres', connectionString: databaseUrl })
        : openDatabase({ dialect: 'sqlite', filename: path.join(folder, 'latchkey.db') });

    before(async () => {
      folder = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-outbox-'));
      databaseUrl = dialect === 'postgres' ? await createPostgresDatabase() : null;
      databases = [open(), open()];
      await migrateToLatest(databases[0]!);
      smtp = await startSmtpServer();
    });
    after(async () => {
      await Promise.all(databases.map((db) => db.destroy()));
      await smtp.close();
      if (databaseUrl) await dropPostgresDatabase(databaseUrl);
      fs.rmSync(folder, { recursive: true, force: true });
    });

    test(`a backlog of ${BACKLOG} mails is sent exactly once by two workers`, async () => {
      const [first] = databases;
      for (let i = 0; i < BACKLOG; i++) {
        await enqueueMail(first!, box, cryptoRandom, clock.now(), { kind: 'test', to: `admin${i}@example.org`, subject: `Message ${i}`, text: `Body ${i}`, html: `<p>Body ${i}</p>` });
      }
      const config = loadConfig({ LATCHKEY_SMTP_URL: smtp.url, LATCHKEY_LOG_LEVEL: 'silent' });
      const log = pino({ level: 'silent' });
      const drain = async (db: Db) => {
        const transport = createSmtpTransport(smtp.url);
        let sent = 0;
        try {
          for (;;) {
            const report = await deliverDueMail({ db, clock, secretBox: box, config }, transport, log);
            if (report.sent + report.retrying + report.failed === 0) return sent;
            sent += report.sent;
          }
        } finally {
          transport.close();
        }
      };
      const counts = await Promise.all(databases.map(drain));

      assert.equal(counts[0]! + counts[1]!, BACKLOG);
      assert.ok(counts[0]! > 0 && counts[1]! > 0, `both workers took part (${counts.join(' and ')})`);
      const received = await smtp.waitFor(BACKLOG, 10_000);
      assert.equal(received.length, BACKLOG, 'no message arrived twice');
      const subjects = new Set(received.map((mail) => mail.subject));
      assert.equal(subjects.size, BACKLOG, 'every message arrived once');
      const ids = new Set(received.map((mail) => mail.messageId));
      assert.equal(ids.size, BACKLOG);
      const unsent = await first!.selectFrom('outbox').select((eb) => eb.fn.countAll<number>().as('n')).where('sent_at', 'is', null).executeTakeFirstOrThrow();
      assert.equal(Number(unsent.n), 0);
    });

    test('a claim is one statement, and a claimed message is not claimed again until its hold ends', async () => {
      const meter = createStatementMeter();
      const metered = databaseUrl
        ? openDatabase({ dialect: 'postgres', connectionString: databaseUrl }, { plugins: [meter.plugin], log: meter.log })
        : openDatabase({ dialect: 'sqlite', filename: path.join(folder, 'latchkey.db') }, { plugins: [meter.plugin], log: meter.log });
      try {
        for (let i = 0; i < 3; i++) await enqueueMail(metered, box, cryptoRandom, clock.now() - 10 + i, { kind: 'test', to: `later${i}@example.org`, subject: `Later ${i}`, text: 'x', html: '<p>x</p>' });
        meter.reset();
        const claimed = await claimDueMail(metered, clock.now(), 2, 60_000);
        assert.deepEqual(meter.counts(), { statements: 1, reads: 0, writes: 1, commits: 1 }, meter.statements().join('\n'));
        assert.deepEqual(claimed.map((row) => row.subject), ['Later 0', 'Later 1']);
        const next = await claimDueMail(databases[1]!, clock.now(), 5, 60_000);
        assert.deepEqual(next.map((row) => row.subject), ['Later 2'], 'the other worker gets only the unclaimed one');
        assert.deepEqual(await claimDueMail(databases[1]!, clock.now() + 59_999, 5, 60_000), []);
        const again = await claimDueMail(databases[1]!, clock.now() + 60_000, 5, 60_000);
        assert.deepEqual(again.map((row) => row.subject).sort(), ['Later 0', 'Later 1', 'Later 2'], 'an unfinished claim lapses');
      } finally {
        await metered.destroy();
      }
    });
  });
}
