import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../src/server/core/config.js';

describe('configuration from LATCHKEY_* variables', () => {
  test('the embedded defaults: SQLite under ./data, port 3000 on loopback, no SMTP', () => {
    const config = loadConfig({}, '/srv/latchkey');
    assert.deepEqual(config.database, { dialect: 'sqlite', filename: '/srv/latchkey/data/latchkey.db' });
    assert.equal(config.port, 3000);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.publicUrl.href, 'http://127.0.0.1:3000/');
    assert.equal(config.smtpUrl, null);
    assert.equal(config.secureCookies, false);
    assert.equal(config.sessionIdleMinutes, 30);
    assert.equal(config.sessionAbsoluteHours, 12);
  });

  test('a postgres URL selects PostgreSQL; a sqlite: URL names the file', () => {
    assert.deepEqual(loadConfig({ LATCHKEY_DATABASE_URL: 'postgres://u@db:5432/lk' }).database, {
      dialect: 'postgres',
      connectionString: 'postgres://u@db:5432/lk',
    });
    assert.deepEqual(loadConfig({ LATCHKEY_DATABASE_URL: 'sqlite:./x/y.db' }, '/a').database, {
      dialect: 'sqlite',
      filename: path.resolve('/a', 'x/y.db'),
    });
  });

  test('an https public URL turns on secure cookies', () => {
    assert.equal(loadConfig({ LATCHKEY_PUBLIC_URL: 'https://lk.example.org' }).secureCookies, true);
  });

  test('every bad setting is reported at once, each with what to do', () => {
    assert.throws(
      () =>
        loadConfig({
          LATCHKEY_PORT: 'eighty',
          LATCHKEY_PUBLIC_URL: 'ftp://x',
          LATCHKEY_DATABASE_URL: 'mysql://x',
          LATCHKEY_SECRET_KEY: 'short',
          LATCHKEY_SESSION_IDLE_MINUTES: '0',
        }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.problems.length, 5);
        assert.match(error.message, /LATCHKEY_PORT="eighty" must be a whole number from 0 to 65535/);
        assert.match(error.message, /LATCHKEY_PUBLIC_URL.*https:\/\/latchkey\.example\.org/);
        assert.match(error.message, /LATCHKEY_DATABASE_URL must start with sqlite:.*or postgres:\/\//);
        assert.match(error.message, /openssl rand -base64 32/);
        assert.match(error.message, /LATCHKEY_SESSION_IDLE_MINUTES/);
        return true;
      },
    );
  });
});
