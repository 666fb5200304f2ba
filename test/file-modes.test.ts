/**
 * The data folder holds password hashes, the audit log, the key that seals TOTP seeds and
 * emailed setup links: the real server and command line keep it to their own user.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { createPostgresDatabase, dialects, dropPostgresDatabase } from './support/context.js';
import { spawn } from 'node:child_process';
import { BIN, runLatchkey, startServer, type CommandResult, type RunningServer } from './support/process.js';

// The usual default: without care, new files would be 0644 and new folders 0755.
process.umask(0o022);

const modeOf = (file: string) => (fs.statSync(file).mode & 0o777).toString(8).padStart(4, '0');

/** Every folder and file under `root`, with its mode, root included. */
function modesUnder(root: string): Record<string, string> {
  const modes: Record<string, string> = { '.': modeOf(root) };
  for (const entry of fs.readdirSync(root, { recursive: true, encoding: 'utf8' })) modes[entry] = modeOf(path.join(root, entry));
  return modes;
}

/** Runs `latchkey args`, killed after `ms` if it is still running (a server that started). */
function runBounded(args: string[], env: Record<string, string>, ms: number): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, timeout: ms, killSignal: 'SIGKILL' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end();
  });
}

/** Polls until `check` holds, for at most `ms`. */
async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 50));
  }
}

for (const dialect of dialects()) {
  describe(`file modes in the data folder (${dialect})`, () => {
    let parent: string;
    let dataDir: string;
    let env: Record<string, string>;
    let databaseUrl: string | null = null;
    let server: RunningServer | null = null;
    beforeEach(async () => {
      parent = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-modes-'));
      dataDir = path.join(parent, 'data');
      env = { LATCHKEY_DATA_DIR: dataDir, LATCHKEY_LOG_LEVEL: 'info' };
      if (dialect === 'postgres') {
        databaseUrl = await createPostgresDatabase();
        env.LATCHKEY_DATABASE_URL = databaseUrl;
      }
    });
    afterEach(async () => {
      if (server) await server.stop();
      server = null;
      if (databaseUrl) await dropPostgresDatabase(databaseUrl);
      databaseUrl = null;
      fs.rmSync(parent, { recursive: true, force: true });
    });

    test('#60 a fresh start makes the data folder 0700 and every file in it 0600: database, -wal, -shm, secret.key, mailbox', async () => {
      server = await startServer(env);
      const created = await runLatchkey(['admin', 'create', '--email', 'grace@example.org'], env);
      assert.equal(created.code, 0, created.stderr);
      const mailbox = path.join(dataDir, 'mailbox');
      await until(() => fs.existsSync(mailbox) && fs.readdirSync(mailbox).some((name) => name.endsWith('.eml')), 15_000, 'the setup email in the mailbox');

      const modes = modesUnder(dataDir);
      const [eml] = fs.readdirSync(mailbox);
      const expected: Record<string, string> = {
        '.': '0700',
        'secret.key': '0600',
        mailbox: '0700',
        [path.join('mailbox', eml!)]: '0600',
      };
      if (dialect === 'sqlite') {
        // The server is running: SQLite's write-ahead log and shared-memory index are there.
        Object.assign(expected, { 'latchkey.db': '0600', 'latchkey.db-wal': '0600', 'latchkey.db-shm': '0600' });
      }
      assert.deepEqual(modes, expected);
    });

    test('#60 a data folder an earlier start left open is made private at start, with a warning naming each path', async () => {
      const first = await runLatchkey(['migrate'], env);
      assert.equal(first.code, 0, first.stderr);
      const mailbox = path.join(dataDir, 'mailbox');
      fs.mkdirSync(mailbox, { mode: 0o755 });
      fs.writeFileSync(path.join(mailbox, 'old.eml'), 'Subject: old\n\nhello\n', { mode: 0o644 });
      fs.chmodSync(mailbox, 0o755);
      fs.chmodSync(path.join(mailbox, 'old.eml'), 0o644);
      fs.chmodSync(dataDir, 0o755);
      if (dialect === 'sqlite') fs.chmodSync(path.join(dataDir, 'latchkey.db'), 0o644);

      server = await startServer(env);
      assert.equal(modeOf(dataDir), '0700');
      assert.equal(modeOf(mailbox), '0700');
      assert.equal(modeOf(path.join(mailbox, 'old.eml')), '0600');
      const opened = [dataDir, mailbox, path.join(mailbox, 'old.eml')];
      if (dialect === 'sqlite') {
        assert.equal(modeOf(path.join(dataDir, 'latchkey.db')), '0600');
        opened.push(path.join(dataDir, 'latchkey.db'));
      }
      const running = server;
      const warnings = () =>
        running
          .output()
          .split('\n')
          .filter((line) => line.startsWith('{'))
          .map((line) => JSON.parse(line) as { level: number; msg: string; path?: string })
          .filter((line) => line.level === 40 && line.path);
      // The log is written asynchronously: it may trail the terminal's "listening" line.
      await until(() => warnings().length >= opened.length, 10_000, 'the warnings in the log').catch(() => {});
      assert.deepEqual(warnings().map((w) => w.path).sort(), opened.sort());
      for (const warning of warnings()) assert.match(warning.msg, /was open to other accounts \(mode 07?[0-7]{3}\); it is now 0[67]00$/);
    });

    test('#60 a secret.key others can read stops the server and the command line, says how to fix it, and is left as it was', async () => {
      fs.mkdirSync(dataDir, { mode: 0o700 });
      const keyFile = path.join(dataDir, 'secret.key');
      fs.writeFileSync(keyFile, `${randomBytes(32).toString('base64')}\n`, { mode: 0o644 });
      fs.chmodSync(keyFile, 0o644);

      for (const args of [['serve'], ['admin', 'create', '--email', 'grace@example.org']]) {
        const result = await runBounded(args, { ...env, LATCHKEY_PORT: '0' }, 20_000);
        assert.equal(result.code, 1, `${args[0]}: ${result.stdout}${result.stderr}`);
        assert.doesNotMatch(result.stdout, /Latchkey is listening|Created administrator/);
        assert.match(result.stderr, /Latchkey cannot start; fix these settings:/);
        assert.ok(result.stderr.includes(`${keyFile} is open to other accounts on this machine (mode 0644)`), result.stderr);
        assert.ok(result.stderr.includes(`chmod 600 ${keyFile}`), result.stderr);
        assert.match(result.stderr, /may have been copied/);
        assert.doesNotMatch(result.stderr, /\n\s+at /, 'a message, not a stack trace');
      }
      assert.equal(modeOf(keyFile), '0644', 'the key file is not changed behind the operator’s back');

      fs.chmodSync(keyFile, 0o600);
      const fixed = await runLatchkey(['admin', 'create', '--email', 'grace@example.org'], env);
      assert.equal(fixed.code, 0, fixed.stderr);
    });
  });
}
