import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { spawn } from 'node:child_process';
import { BIN, freePort, runLatchkey } from './support/process.js';

describe('the latchkey command line', () => {
  let dataDir: string;
  let env: Record<string, string>;
  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-cli-'));
    env = { LATCHKEY_DATA_DIR: dataDir, LATCHKEY_PUBLIC_URL: 'https://lk.example.org' };
  });
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  test('admin create without a password prints a setup link under the public URL', async () => {
    const result = await runLatchkey(['admin', 'create', '--email', 'new@example.org', '--name', 'New Admin', '--mfa-required'], env);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Created administrator new@example\.org \(invited, administrator\)/);
    assert.match(result.stdout, /^https:\/\/lk\.example\.org\/setup#token=[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/m);
  });

  test('--version prints the version of package.json', async () => {
    const { version } = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, '..', 'package.json'), 'utf8')) as { version: string };
    const result = await runLatchkey(['--version'], env);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), `latchkey ${version}`);
  });

  test('--help works for every command, shows only that command, and needs no valid settings', async () => {
    const broken = { ...env, LATCHKEY_PORT: 'not a port' };
    for (const [args, line] of [
      [['serve', '--help'], /^  serve +Start the console/m],
      [['migrate', '--help'], /^  migrate +Apply database migrations/m],
      [['first-admin-link', '--help'], /^  first-admin-link +Print a one-time link/m],
      [['admin', '--help'], /^  admin unlock --email E/m],
      [['admin', 'create', '--help'], /^  admin create --email E \[--name N\] \[--role administrator\|help_desk\|read_only\]/m],
      [['admin', 'reset-mfa', '-h'], /^  admin reset-mfa --email E/m],
      [['mail', '--help'], /^  mail show --last/m],
      [['--help'], /^Commands:/m],
    ] as const) {
      const result = await runLatchkey([...args], broken);
      assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stdout, line, args.join(' '));
    }
    const create = await runLatchkey(['admin', 'create', '--help'], broken);
    assert.doesNotMatch(create.stdout, /admin unlock|mail list/, 'only the command asked about');
  });

  test('admin create --role gives the role; an unknown role is refused and nothing is created', async () => {
    const desk = await runLatchkey(['admin', 'create', '--email', 'desk@example.org', '--role', 'help_desk'], env);
    assert.equal(desk.code, 0, desk.stderr);
    assert.match(desk.stdout, /Created administrator desk@example\.org \(invited, help desk\)/);
    const wrong = await runLatchkey(['admin', 'create', '--email', 'owner@example.org', '--role', 'owner'], env);
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /--role "owner": use administrator, help_desk or read_only\./);
    const again = await runLatchkey(['admin', 'create', '--email', 'owner@example.org'], env);
    assert.equal(again.code, 0, 'the refused one was not created');
  });

  test('admin setup-link prints a new link each time; an unknown email is an error', async () => {
    await runLatchkey(['admin', 'create', '--email', 'new@example.org'], env);
    const first = await runLatchkey(['admin', 'setup-link', '--email', 'NEW@example.org'], env);
    const second = await runLatchkey(['admin', 'setup-link', '--email', 'new@example.org'], env);
    const link = (text: string) => /https:\S+/.exec(text)?.[0];
    assert.ok(link(first.stdout) && link(second.stdout));
    assert.notEqual(link(first.stdout), link(second.stdout));
    const unknown = await runLatchkey(['admin', 'setup-link', '--email', 'nobody@example.org'], env);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /No administrator has the email nobody@example\.org/);
  });

  test('a weak password from stdin is refused with the reason and nothing is created', async () => {
    const result = await runLatchkey(['admin', 'create', '--email', 'a@example.org', '--password-stdin'], env, 'short\n');
    assert.equal(result.code, 1);
    assert.match(result.stderr, /Password refused: Use at least 15 characters/);
    const again = await runLatchkey(['admin', 'create', '--email', 'a@example.org', '--password-stdin'], env, 'a perfectly fine passphrase\n');
    assert.equal(again.code, 0, 'the address was not taken by the failed attempt');
  });

  test('a duplicate email, a bad email, a bad name and unknown commands are clear errors', async () => {
    await runLatchkey(['admin', 'create', '--email', 'a@example.org'], env);
    const duplicate = await runLatchkey(['admin', 'create', '--email', 'A@example.org'], env);
    assert.equal(duplicate.code, 1);
    assert.match(duplicate.stderr, /already exists/);
    const badEmail = await runLatchkey(['admin', 'create', '--email', 'nope'], env);
    assert.equal(badEmail.code, 2);
    assert.match(badEmail.stderr, /not an email address/);
    const badName = await runLatchkey(['admin', 'create', '--email', 'b@example.org', '--name', '<b>x</b>'], env);
    assert.match(badName.stderr, /Invalid characters found/);
    const unknown = await runLatchkey(['frobnicate'], env);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /Unknown command "frobnicate"[\s\S]*Usage: latchkey/);
  });

  test('first-admin-link prints a one-time link on a fresh install and refuses once an administrator exists', async () => {
    const first = await runLatchkey(['first-admin-link'], env);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^https:\/\/lk\.example\.org\/setup#token=[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/m);
    const extra = await runLatchkey(['first-admin-link', '--email', 'a@example.org'], env);
    assert.equal(extra.code, 2);
    assert.match(extra.stderr, /^first-admin-link takes no arguments/);
    await runLatchkey(['admin', 'create', '--email', 'a@example.org'], env);
    const refused = await runLatchkey(['first-admin-link'], env);
    assert.equal(refused.code, 1);
    assert.doesNotMatch(refused.stdout + refused.stderr, /setup#token/);
    assert.match(refused.stderr, /An administrator already exists, so there is no first-administrator link\. To let an administrator in, run: latchkey admin setup-link --email E/);
  });

  test('serve on a terminal prints the first-administrator link there', async () => {
    // script(1) gives the server a pseudo-terminal for its stdout, as an interactive shell does.
    const command = [process.execPath, BIN, 'serve'].map((part) => `'${part}'`).join(' ');
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      env: { PATH: process.env.PATH ?? '', ...env, LATCHKEY_PORT: '0' },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    try {
      const deadline = Date.now() + 20_000;
      while (!/Latchkey is listening on/.test(output) && Date.now() < deadline) await new Promise((done) => setTimeout(done, 50));
      assert.match(output, /No administrator exists yet\. Create the first one with this one-time link/);
      assert.match(output, /^ {2}https:\/\/lk\.example\.org\/setup#token=[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\r?$/m);
    } finally {
      const closed = new Promise((done) => child.once('close', done));
      process.kill(-child.pid!, 'SIGTERM');
      await closed;
    }
  });

  test('Item 1: without LATCHKEY_PUBLIC_URL, the first start on a terminal and first-admin-link print the same http://localhost:<port> address', async () => {
    const port = await freePort();
    const local = { LATCHKEY_DATA_DIR: dataDir, LATCHKEY_PORT: String(port) };
    const command = [process.execPath, BIN, 'serve'].map((part) => `'${part}'`).join(' ');
    const child = spawn('script', ['-qec', command, '/dev/null'], { env: { PATH: process.env.PATH ?? '', ...local }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    let firstStart: string | undefined;
    try {
      const deadline = Date.now() + 20_000;
      while (!/Latchkey is listening on/.test(output) && Date.now() < deadline) await new Promise((done) => setTimeout(done, 50));
      firstStart = /^ {2}(\S+)\/setup#token=[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\r?$/m.exec(output)?.[1];
      assert.match(output, new RegExp(`; open http://localhost:${port}/\r?$`, 'm'));
    } finally {
      const closed = new Promise((done) => child.once('close', done));
      process.kill(-child.pid!, 'SIGTERM');
      await closed;
    }
    assert.equal(firstStart, `http://localhost:${port}`, output);

    const printed = await runLatchkey(['first-admin-link'], local);
    assert.equal(printed.code, 0, printed.stderr);
    const onDemand = /^(\S+)\/setup#token=[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/m.exec(printed.stdout)?.[1];
    assert.equal(onDemand, firstStart, printed.stdout);
  });

  test('a bad setting stops the command with what to fix', async () => {
    const result = await runLatchkey(['migrate'], { ...env, LATCHKEY_DATABASE_URL: 'mysql://x' });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /Latchkey cannot start; fix these settings:\n {2}- LATCHKEY_DATABASE_URL/);
    const proxy = await runLatchkey(['serve'], { ...env, LATCHKEY_PORT: '0', LATCHKEY_TRUST_PROXY: '127.0.0.1,foo' });
    assert.equal(proxy.code, 1);
    assert.match(proxy.stderr, /Latchkey cannot start; fix these settings:\n {2}- LATCHKEY_TRUST_PROXY has "foo"/);
    assert.doesNotMatch(proxy.stderr, /TypeError|\n\s+at /, 'a message, not a stack trace');
  });
});
