import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { passkeysAvailableAt } from '../src/server/authenticators/passkey/ceremonies.js';
import { ConfigError, loadConfig } from '../src/server/core/config.js';
import { createHostCheck } from '../src/server/http/host-guard.js';

describe('configuration from LATCHKEY_* variables', () => {
  test('the embedded defaults: SQLite under ./data, port 3000 on loopback, no SMTP', () => {
    const config = loadConfig({}, '/srv/latchkey');
    assert.deepEqual(config.database, { dialect: 'sqlite', filename: '/srv/latchkey/data/latchkey.db' });
    assert.equal(config.port, 3000);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.publicUrl.href, 'http://localhost:3000/');
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

  test('Item 1: on a loopback address without LATCHKEY_PUBLIC_URL, links point to http://localhost:<port>, which the Host guard serves', () => {
    for (const host of ['127.0.0.1', '127.0.1.1', '::1', 'localhost']) {
      const config = loadConfig({ LATCHKEY_HOST: host, LATCHKEY_PORT: '4123' });
      assert.equal(config.publicUrl.href, 'http://localhost:4123/', host);
      // A host name, so a browser accepts it as the passkeys' relying party.
      assert.equal(passkeysAvailableAt(config.publicUrl), true, host);
      const served = createHostCheck(config);
      assert.equal(served('localhost:4123'), true, host);
      assert.equal(served('localhost.attacker.example:4123'), false, host);
    }
    assert.equal(loadConfig({}).mailFrom, 'Latchkey <latchkey@localhost>');
  });

  test('Item 1: on 0.0.0.0 or :: links point to localhost too; another address or name is kept; a public URL always wins', () => {
    // The unspecified address is never a destination (RFC 1122 §3.2.1.3, RFC 4291 §2.5.2), so
    // http://0.0.0.0:3000 is no link a browser should open. Its listener includes loopback, and
    // localhost reaches it from this machine and from a container's host with the port
    // published; everyone else needs LATCHKEY_PUBLIC_URL, which no default can guess.
    assert.equal(loadConfig({ LATCHKEY_HOST: '0.0.0.0' }).publicUrl.href, 'http://localhost:3000/');
    assert.equal(loadConfig({ LATCHKEY_HOST: '::' }).publicUrl.href, 'http://localhost:3000/');
    // A particular address is the one other machines reach this one at: kept, and passkeys are
    // not offered there (the console says why).
    const lan = loadConfig({ LATCHKEY_HOST: '10.0.0.5' });
    assert.equal(lan.publicUrl.href, 'http://10.0.0.5:3000/');
    assert.equal(passkeysAvailableAt(lan.publicUrl), false);
    assert.equal(passkeysAvailableAt(loadConfig({ LATCHKEY_HOST: 'fd00::5' }).publicUrl), false);
    assert.equal(loadConfig({ LATCHKEY_HOST: 'lk.internal' }).publicUrl.href, 'http://lk.internal:3000/');
    assert.equal(loadConfig({ LATCHKEY_PUBLIC_URL: 'http://127.0.0.1:3000' }).publicUrl.href, 'http://127.0.0.1:3000/');
    assert.equal(passkeysAvailableAt(loadConfig({ LATCHKEY_PUBLIC_URL: 'http://10.0.0.5:3000' }).publicUrl), false);
    assert.equal(passkeysAvailableAt(loadConfig({ LATCHKEY_PUBLIC_URL: 'https://lk.example.org' }).publicUrl), true);
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

describe('settings that used to be taken on trust', () => {
  test('LATCHKEY_TRUST_PROXY takes addresses, CIDRs and the named ranges', () => {
    const config = loadConfig({ LATCHKEY_TRUST_PROXY: '127.0.0.1, 10.0.0.0/8,fd00::/8, ::1,loopback' });
    assert.deepEqual(config.trustProxy, ['127.0.0.1', '10.0.0.0/8', 'fd00::/8', '::1', 'loopback']);
    assert.deepEqual(loadConfig({}).trustProxy, []);
  });

  test('a bad LATCHKEY_TRUST_PROXY is a problem to fix, named with the bad entries, not a crash later', () => {
    for (const raw of ['foo', '127.0.0.1,foo', '10.0.0.0/33', '::1/129', '10.0.0.0/8/1', 'true', '1']) {
      assert.throws(
        () => loadConfig({ LATCHKEY_TRUST_PROXY: raw }),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError, raw);
          assert.equal(error.problems.length, 1, raw);
          assert.match(error.problems[0]!, /^LATCHKEY_TRUST_PROXY has ".*"; give addresses or CIDRs of your reverse proxies/, raw);
          return true;
        },
      );
    }
  });

  test('LATCHKEY_HOST, LATCHKEY_SMTP_URL and LATCHKEY_MAIL_FROM are checked too', () => {
    assert.equal(loadConfig({ LATCHKEY_HOST: '::' }).host, '::');
    assert.equal(loadConfig({ LATCHKEY_HOST: 'latchkey.internal' }).host, 'latchkey.internal');
    assert.equal(loadConfig({ LATCHKEY_MAIL_FROM: '"Latchkey, Ops" <ops@example.org>' }).mailFrom, '"Latchkey, Ops" <ops@example.org>');
    assert.equal(loadConfig({ LATCHKEY_MAIL_FROM: 'ops@example.org' }).mailFrom, 'ops@example.org');
    assert.throws(
      () =>
        loadConfig({
          LATCHKEY_HOST: 'http://0.0.0.0',
          LATCHKEY_SMTP_URL: 'smtp://[bad',
          LATCHKEY_MAIL_FROM: 'ops@example.org, attacker@evil.example',
        }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.problems.length, 3);
        assert.match(error.message, /LATCHKEY_HOST="http:\/\/0\.0\.0\.0" must be an IP address or a host name/);
        assert.match(error.message, /LATCHKEY_SMTP_URL must start with smtp:\/\//);
        assert.match(error.message, /LATCHKEY_MAIL_FROM=.* must be one sender/);
        return true;
      },
    );
  });
});

describe('the identity provider’s settings (LATCHKEY_OIDC_*)', () => {
  const provider = {
    LATCHKEY_OIDC_ISSUER: 'https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0',
    LATCHKEY_OIDC_CLIENT_ID: '6731de76-14a6-49ae-97bc-6eba6914391e',
    LATCHKEY_OIDC_CLIENT_SECRET: 'q~8Q~not-a-real-secret',
  };

  test('off unless set; set, it names the issuer, the client, the button and whom to make', () => {
    assert.equal(loadConfig({}).identityProvider, null);
    const plain = loadConfig(provider).identityProvider!;
    assert.equal(plain.issuer.href, provider.LATCHKEY_OIDC_ISSUER);
    assert.equal(plain.clientId, provider.LATCHKEY_OIDC_CLIENT_ID);
    assert.equal(plain.name, 'login.microsoftonline.com', 'the button names the issuer’s host when no name is given');
    assert.equal(plain.createAdminsRole, null, 'nobody is made an administrator by default');
    const named = loadConfig({ ...provider, LATCHKEY_OIDC_NAME: 'Entra ID', LATCHKEY_OIDC_CREATE_ADMINS: 'read_only' }).identityProvider!;
    assert.deepEqual([named.name, named.createAdminsRole], ['Entra ID', 'read_only']);
    assert.equal(loadConfig({ ...provider, LATCHKEY_OIDC_CREATE_ADMINS: 'none' }).identityProvider!.createAdminsRole, null);
    assert.equal(loadConfig({ ...provider, LATCHKEY_OIDC_ISSUER: 'http://127.0.0.1:9400' }).identityProvider!.issuer.origin, 'http://127.0.0.1:9400', 'plain http on loopback, for a provider beside Latchkey');
  });

  test('half a setting stops the start with what is missing', () => {
    assert.throws(
      () => loadConfig({ LATCHKEY_OIDC_ISSUER: provider.LATCHKEY_OIDC_ISSUER, LATCHKEY_OIDC_NAME: 'Entra ID' }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.problems.length, 1);
        assert.match(error.message, /LATCHKEY_OIDC_ISSUER, LATCHKEY_OIDC_NAME are set, but LATCHKEY_OIDC_CLIENT_ID and LATCHKEY_OIDC_CLIENT_SECRET are not/);
        return true;
      },
    );
  });

  test('every malformed value is named with what to put, and the secret is never repeated', () => {
    const secret = 'two words\u0007';
    assert.throws(
      () =>
        loadConfig({
          LATCHKEY_OIDC_ISSUER: 'http://idp.example.org',
          LATCHKEY_OIDC_CLIENT_ID: 'has space',
          LATCHKEY_OIDC_CLIENT_SECRET: secret,
          LATCHKEY_OIDC_NAME: 'x'.repeat(61),
          LATCHKEY_OIDC_CREATE_ADMINS: 'root',
        }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.problems.length, 5);
        assert.match(error.message, /LATCHKEY_OIDC_ISSUER="http:\/\/idp\.example\.org" must be the provider's issuer, an https:\/\/ URL/);
        assert.match(error.message, /LATCHKEY_OIDC_CLIENT_ID must be the client id the provider gave/);
        assert.match(error.message, /LATCHKEY_OIDC_CLIENT_SECRET must be the client secret the provider gave/);
        assert.match(error.message, /LATCHKEY_OIDC_NAME must be the provider's name/);
        assert.match(error.message, /LATCHKEY_OIDC_CREATE_ADMINS="root" must name the role .*administrator, help_desk, read_only/);
        assert.ok(!error.message.includes('two words'), 'the secret is not in the message');
        return true;
      },
    );
    assert.throws(() => loadConfig({ ...provider, LATCHKEY_OIDC_ISSUER: 'https://idp.example.org/?tenant=1' }), /LATCHKEY_OIDC_ISSUER/);
  });
});
