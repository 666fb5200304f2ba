/**
 * `latchkey mail list` and `latchkey mail show` on the real mailbox folder a running server
 * wrote, without LATCHKEY_SMTP_URL: the setup link is readable and works.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createPostgresDatabase, dialects, dropPostgresDatabase } from './support/context.js';
import { runLatchkey, startServer, type RunningServer } from './support/process.js';

const LINK = /https:\/\/lk\.example\.org\/setup#token=([A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})/;

for (const dialect of dialects()) {
  describe(`latchkey mail, on the mailbox the server wrote (${dialect})`, () => {
    let dataDir: string;
    let env: Record<string, string>;
    let server: RunningServer;
    let databaseUrl: string | null = null;
    const printed: Record<string, string> = {};

    before(async () => {
      dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-cli-mail-'));
      env = { LATCHKEY_DATA_DIR: dataDir, LATCHKEY_PUBLIC_URL: 'https://lk.example.org' };
      if (dialect === 'postgres') {
        databaseUrl = await createPostgresDatabase();
        env.LATCHKEY_DATABASE_URL = databaseUrl;
      }
      server = await startServer(env);
      for (const email of ['grace@example.org', 'ada@example.org']) {
        const created = await runLatchkey(['admin', 'create', '--email', email, '--mfa-required'], env);
        assert.equal(created.code, 0, created.stderr);
        printed[email] = LINK.exec(created.stdout)![0];
      }
      const mailbox = path.join(dataDir, 'mailbox');
      const deadline = Date.now() + 15_000;
      const count = () => (fs.existsSync(mailbox) ? fs.readdirSync(mailbox).filter((name) => name.endsWith('.eml')).length : 0);
      while (count() < 2 && Date.now() < deadline) await new Promise((done) => setTimeout(done, 50));
      assert.equal(count(), 2, 'the server wrote both setup emails');
    });
    after(async () => {
      if (server) await server.stop();
      if (databaseUrl) await dropPostgresDatabase(databaseUrl);
      fs.rmSync(dataDir, { recursive: true, force: true });
    });

    test('mail list shows date, recipient, subject and file of each email, oldest first', async () => {
      const result = await runLatchkey(['mail', 'list'], env);
      assert.equal(result.code, 0, result.stderr);
      const lines = result.stdout.trimEnd().split('\n');
      const files = fs.readdirSync(path.join(dataDir, 'mailbox')).sort();
      assert.equal(lines.length, 2);
      for (const [i, email] of ['grace@example.org', 'ada@example.org'].entries()) {
        const [date, to, subject, file] = lines[i]!.split('  ');
        assert.match(date!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
        assert.equal(to, email);
        assert.equal(subject, 'Set up your password and authenticator for Latchkey');
        assert.ok(files.includes(file!), `${file} is a file in the mailbox`);
      }
      const onlyAda = await runLatchkey(['mail', 'list', '--to', 'ADA@example.org'], env);
      assert.equal(onlyAda.stdout.trimEnd().split('\n').length, 1);
      assert.match(onlyAda.stdout, /ada@example\.org/);
    });

    test('mail show --last --to prints the headers and the decoded text, whose link is the working setup link', async () => {
      const result = await runLatchkey(['mail', 'show', '--last', '--to', 'grace@example.org'], env);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^File: .*\/mailbox\/.*\.eml\nDate: \S+\nFrom: .*latchkey@lk\.example\.org.*\nTo: grace@example\.org\nSubject: Set up your password and authenticator for Latchkey\n\n/);
      const [link, token] = LINK.exec(result.stdout) ?? [];
      assert.equal(link, printed['grace@example.org'], 'the link in the email is the one admin create printed');
      const state = await fetch(`${server.baseUrl}/api/v1/setup`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(state.status, 200);
      assert.equal(((await state.json()) as { email: string }).email, 'grace@example.org');

      const file = /^File: (.*)$/m.exec(result.stdout)![1]!;
      const byName = await runLatchkey(['mail', 'show', path.basename(file)], env);
      assert.equal(byName.stdout, result.stdout);
      const newest = await runLatchkey(['mail', 'show', '--last'], env);
      assert.ok(newest.stdout.includes(printed['ada@example.org']!), 'the newest email is the second one');
    });
  });
}

describe('latchkey mail, errors', () => {
  let dataDir: string;
  let env: Record<string, string>;
  before(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-cli-mail-'));
    env = { LATCHKEY_DATA_DIR: dataDir };
  });
  after(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const folder = () => path.join(dataDir, 'mailbox');

  test('no mail, an address with no mail and an unknown file are clear errors', async () => {
    const empty = await runLatchkey(['mail', 'list'], env);
    assert.equal(empty.code, 1);
    assert.equal(empty.stderr, `No mail in ${folder()}.\n`);
    const emptyShow = await runLatchkey(['mail', 'show', '--last'], env);
    assert.equal(emptyShow.stderr, `No mail in ${folder()}.\n`);

    fs.mkdirSync(folder(), { recursive: true });
    fs.writeFileSync(path.join(folder(), 'one.eml'), 'To: grace@example.org\nSubject: Hello\nDate: Fri, 27 Nov 2026 12:00:00 +0000\n\nhello\n');
    const nobody = await runLatchkey(['mail', 'show', '--last', '--to', 'nobody@example.org'], env);
    assert.equal(nobody.code, 1);
    assert.equal(nobody.stderr, `No mail to nobody@example.org in ${folder()}.\n`);
    const unknown = await runLatchkey(['mail', 'show', 'missing.eml'], env);
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr, `No message missing.eml in ${folder()}; mail list shows the file names.\n`);
  });

  test('missing or unknown flags are usage errors', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['mail'], /^Name a mail command: list or show\./],
      [['mail', 'send'], /^Unknown mail command "send"\./],
      [['mail', 'show'], /^mail show needs --last, --to E or a file name from mail list\./],
      [['mail', 'show', '--frob'], /^mail show: Unknown option '--frob'/],
      [['mail', 'list', '--last'], /^mail list: Unknown option '--last'/],
      [['mail', 'show', '--to', 'nope'], /^--to "nope" is not an email address\./],
      [['mail', 'show', 'a.eml', '--last'], /^mail show takes a file name or --last\/--to, not both\./],
    ];
    for (const [args, message] of cases) {
      const result = await runLatchkey(args, env);
      assert.equal(result.code, 2, args.join(' '));
      assert.match(result.stderr, message);
      assert.match(result.stderr, /Usage: latchkey/);
    }
  });
});
